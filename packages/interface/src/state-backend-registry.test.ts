import { describe, expect, it } from 'vitest';
import { configOption, validateConfigEntry, registeredConfigKinds } from './config.js';
import { ConfigError } from './errors.js';
import type { StateBackend, StateSnapshot } from './state.js';
import type { StateBackendFactory } from './state-backend-factory.js';
import { StateBackendRegistry } from './state-backend-registry.js';

// Fake factories are the point here: the registry's lookup, key registration and policies.
const backend = (kind: string): StateBackend => ({ kind, create: () => { throw new Error('not used'); } });

const SIZE = configOption<number>({ key: 'state.fake.size', type: 'integer', default: 4, min: 1, scope: 'job', doc: 'Size of the fake.' });
const disposed: string[] = [];
const heap: StateBackendFactory = { kind: 'heap', options: [], create: () => backend('heap') };
const chained: StateBackendFactory = {
  kind: 'chained',
  options: [SIZE],
  create: (config) => backend(`chained-${String(config[SIZE.key] ?? SIZE.default)}`),
  minRetainedCheckpoints: () => 11,
  compact: (chain) => ({ ...chain[chain.length - 1], checkpointId: -chain.length }),
  dispose: (jobId) => disposed.push(jobId),
};

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('StateBackendRegistry', () => {
  it('before any registration, state.backend accepts no kind and says so', () => {
    const e = configErrorOf(() => validateConfigEntry('state.backend', 'heap', 'job', 'job options'));
    expect(e.code).toBe('CONFIG_INVALID_VALUE');
    expect(e.key).toBe('state.backend');
    expect(e.message).toMatch(/known kinds: none/);
    expect(configErrorOf(() => validateConfigEntry('state.fake.size', 2, 'job', 'job options')).code).toBe('CONFIG_UNKNOWN_KEY');
    // The default is what an unset key means, so setting it is never an error.
    expect(() => validateConfigEntry('state.backend', 'memory', 'job', 'job options')).not.toThrow();
  });

  let registry!: StateBackendRegistry;

  it('registers the kinds and the factories\' own keys for validation', () => {
    registry = new StateBackendRegistry([heap, chained]);
    expect(registry.kinds()).toEqual(['heap', 'chained']);
    expect(registeredConfigKinds('state.backend')).toEqual(['heap', 'chained']);
    expect(() => validateConfigEntry('state.backend', 'chained', 'job', 'job options')).not.toThrow();
    expect(() => validateConfigEntry('state.fake.size', 2, 'job', 'job options')).not.toThrow();
    expect(configErrorOf(() => validateConfigEntry('state.fake.size', 0, 'job', 'job options')).code).toBe('CONFIG_INVALID_VALUE');
  });

  it('rejects an unknown kind at validation, naming the key and the known kinds', () => {
    const e = configErrorOf(() => validateConfigEntry('state.backend', 'rocks', 'job', 'job options'));
    expect(e.key).toBe('state.backend');
    expect(e.message).toContain('known kinds: heap, chained');
    expect(e.message).toContain('"rocks"');
  });

  it('creates the backend state.backend names, configured from the config', () => {
    expect(registry.create({ 'state.backend': 'heap' }).kind).toBe('heap');
    expect(registry.create({ 'state.backend': 'chained', 'state.fake.size': 9 }).kind).toBe('chained-9');
  });

  it('an unset state.backend means its default, which no factory here provides', () => {
    const e = configErrorOf(() => registry.create({}));
    expect(e.key).toBe('state.backend');
    expect(e.message).toContain('"memory"');
    expect(e.message).toContain('heap, chained');
  });

  it('keeps at least what the backend needs, else checkpoint.retained', () => {
    expect(registry.retainedCheckpoints({ 'state.backend': 'heap', 'checkpoint.retained': 3 })).toBe(3);
    expect(registry.retainedCheckpoints({ 'state.backend': 'heap' })).toBe(2);
    expect(registry.retainedCheckpoints({ 'state.backend': 'chained', 'checkpoint.retained': 3 })).toBe(11);
    expect(registry.retainedCheckpoints({ 'state.backend': 'chained', 'checkpoint.retained': 20 })).toBe(20);
  });

  it('offers a compactor only for a backend that compacts, and disposes through the factory', () => {
    expect(registry.compactor({ 'state.backend': 'heap' })).toBeUndefined();
    const compact = registry.compactor({ 'state.backend': 'chained' })!;
    const snap = (checkpointId: number): StateSnapshot => ({ backend: 'chained', operatorId: 'op', checkpointId, keyGroups: { start: 0, end: 1 }, groups: new Map() });
    expect((compact([snap(1), snap(2), snap(3)]) as StateSnapshot).checkpointId).toBe(-3);
    registry.dispose({ 'state.backend': 'heap' }, 'job-a');
    registry.dispose({ 'state.backend': 'chained' }, 'job-b');
    expect(disposed).toEqual(['job-b']);
  });

  it('a second registry with the same factories is harmless; a clashing key declaration is not', () => {
    expect(() => new StateBackendRegistry([chained])).not.toThrow();
    const clash: StateBackendFactory = { ...heap, kind: 'other', options: [{ ...SIZE, default: 5 }] };
    expect(configErrorOf(() => new StateBackendRegistry([clash])).code).toBe('CONFIG_DUPLICATE_KEY');
  });
});
