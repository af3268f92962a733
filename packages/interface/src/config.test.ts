import { describe, it, expect } from 'vitest';
import { CONFIG_KEYS, configKey, defaultConfig, validateConfig, validateConfigEntry, type ConfigKeyDeclaration } from './config.js';
import { ConfigError, MobiusError } from './errors.js';

/** Runs fn, asserts it throws a ConfigError, and returns it. */
function configErrorOf(fn: () => void): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ConfigError to be thrown').toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

const jobOnly = CONFIG_KEYS.filter((d) => d.scope === 'job');
const anyScope = CONFIG_KEYS.filter((d) => d.scope === 'both');
const numeric = CONFIG_KEYS.filter((d) => d.type === 'integer' || d.type === 'number');

describe('CONFIG_KEYS', () => {
  it('declares each key once, with a doc, a known type and a known scope', () => {
    const keys = CONFIG_KEYS.map((d) => d.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of CONFIG_KEYS) {
      expect(d.key).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
      expect(['integer', 'number', 'string', 'boolean']).toContain(d.type);
      expect(['job', 'operator', 'both']).toContain(d.scope);
      expect(d.doc.length).toBeGreaterThan(10);
    }
  });

  it('contains the keys the planner and runtime rely on', () => {
    const keys = CONFIG_KEYS.map((d) => d.key);
    for (const k of ['parallelism.default', 'job.max-parallelism', 'runtime.batch.size', 'runtime.channel.credits', 'runtime.linger.ms']) {
      expect(keys).toContain(k);
    }
    expect(configKey('parallelism.default')?.scope).toBe('job');
    expect(configKey('job.max-parallelism')?.scope).toBe('job');
  });

  it('has defaults that pass their own validation in every scope they allow', () => {
    for (const d of CONFIG_KEYS) {
      const scopes: ('job' | 'operator')[] = d.scope === 'both' ? ['job', 'operator'] : [d.scope];
      for (const s of scopes) expect(() => validateConfigEntry(d.key, d.default, s, 'test')).not.toThrow();
      if (d.min !== undefined && d.default !== 'auto') expect(d.default as number).toBeGreaterThanOrEqual(d.min);
      if (d.max !== undefined && d.default !== 'auto') expect(d.default as number).toBeLessThanOrEqual(d.max);
    }
  });
});

describe('configKey', () => {
  it('returns the declaration of a known key and undefined for an unknown one', () => {
    const d = configKey('runtime.batch.size') as ConfigKeyDeclaration;
    expect(d).toBe(CONFIG_KEYS.find((x) => x.key === 'runtime.batch.size'));
    expect(d.type).toBe('integer');
    expect(configKey('runtime.batch.sise')).toBeUndefined();
    expect(configKey('')).toBeUndefined();
  });
});

describe('defaultConfig', () => {
  it('has exactly every CONFIG_KEYS key, each with its default', () => {
    const cfg = defaultConfig();
    expect(Object.keys(cfg).sort()).toEqual(CONFIG_KEYS.map((d) => d.key).sort());
    for (const d of CONFIG_KEYS) expect(cfg[d.key]).toBe(d.default);
  });

  it('has the documented values', () => {
    expect(defaultConfig()).toMatchObject({
      'parallelism.default': 1,
      'job.max-parallelism': 128,
      'runtime.batch.size': 1024,
      'runtime.channel.credits': 8,
      'runtime.linger.ms': 5,
    });
  });

  it('returns a fresh object each call', () => {
    const a = defaultConfig();
    a['runtime.batch.size'] = 1;
    expect(defaultConfig()['runtime.batch.size']).toBe(1024);
    expect(CONFIG_KEYS.find((d) => d.key === 'runtime.batch.size')?.default).toBe(1024);
  });
});

describe('validateConfigEntry: unknown keys', () => {
  it('rejects an unknown key with CONFIG_UNKNOWN_KEY, naming the key and the place', () => {
    const e = configErrorOf(() => validateConfigEntry('runtime.batch.sise', 10, 'job', 'job options'));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(e.key).toBe('runtime.batch.sise');
    expect(e.message).toContain("'runtime.batch.sise'");
    expect(e.message).toContain('job options');
    expect(e).toBeInstanceOf(MobiusError);
    expect(e.name).toBe('ConfigError');
  });

  it('suggests the nearest known key for a typo', () => {
    const cases: [string, string][] = [
      ['runtime.batch.sise', 'runtime.batch.size'],
      ['runtime.batch.szie', 'runtime.batch.size'],
      ['parallelism.defualt', 'parallelism.default'],
      ['job.max-paralelism', 'job.max-parallelism'],
      ['runtime.linger', 'runtime.linger.ms'],
      ['runtime.channel.credit', 'runtime.channel.credits'],
    ];
    for (const [typo, meant] of cases) {
      const e = configErrorOf(() => validateConfigEntry(typo, 1, 'operator', 'operator "map-1"'));
      expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
      expect(e.message).toContain(`did you mean '${meant}'?`);
    }
  });

  it('does not suggest anything for a key far from every known key, but lists the known keys', () => {
    const e = configErrorOf(() => validateConfigEntry('xyz', 1, 'job', 'job options'));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(e.message).not.toContain('did you mean');
    for (const d of CONFIG_KEYS) expect(e.message).toContain(d.key);
  });

  it('treats keys as case-sensitive', () => {
    const e = configErrorOf(() => validateConfigEntry('Runtime.Batch.Size', 1, 'job', 'job options'));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
  });
});

describe('validateConfigEntry: values', () => {
  it('accepts valid values at the bounds', () => {
    expect(() => validateConfigEntry('runtime.batch.size', 1, 'job', 'j')).not.toThrow();
    expect(() => validateConfigEntry('runtime.batch.size', 1_000_000, 'operator', 'o')).not.toThrow();
    expect(() => validateConfigEntry('job.max-parallelism', 32768, 'job', 'j')).not.toThrow();
    expect(() => validateConfigEntry('runtime.linger.ms', 0, 'job', 'j')).not.toThrow();
    expect(() => validateConfigEntry('runtime.linger.ms', 2.5, 'job', 'j')).not.toThrow();
  });

  it.each([
    ['runtime.batch.size', 'big', '"big"'],
    ['runtime.batch.size', '10', '"10"'],
    ['runtime.batch.size', true, 'true'],
    ['runtime.batch.size', null, 'null'],
    ['runtime.batch.size', undefined, 'undefined'],
    ['runtime.batch.size', 1.5, '1.5'],
    ['runtime.batch.size', 0, '0'],
    ['runtime.batch.size', -3, '-3'],
    ['runtime.batch.size', 1_000_001, '1000001'],
    ['runtime.batch.size', Number.NaN, 'NaN'],
    ['runtime.batch.size', Number.POSITIVE_INFINITY, 'Infinity'],
    ['runtime.batch.size', 10n, '10n'],
    ['job.max-parallelism', 32769, '32769'],
    ['job.max-parallelism', 0, '0'],
    ['runtime.linger.ms', -1, '-1'],
    ['runtime.linger.ms', 60_001, '60001'],
    ['runtime.linger.ms', '5', '"5"'],
    ['runtime.channel.credits', 4097, '4097'],
  ])('rejects %s = %s with CONFIG_INVALID_VALUE naming key and value', (key, value, shown) => {
    const e = configErrorOf(() => validateConfigEntry(key, value, 'job', 'job options'));
    expect(e.code).toBe('CONFIG_INVALID_VALUE');
    expect(e.key).toBe(key);
    expect(e.message).toContain(`'${key}'`);
    expect(e.message).toContain('job options');
    expect(e.message).toContain(`(got ${shown})`);
  });

  it('says why a value is wrong', () => {
    expect(configErrorOf(() => validateConfigEntry('runtime.batch.size', 0, 'job', 'j')).message).toContain('at least 1');
    expect(configErrorOf(() => validateConfigEntry('runtime.batch.size', 2_000_000, 'job', 'j')).message).toContain('at most 1000000');
    expect(configErrorOf(() => validateConfigEntry('runtime.batch.size', 1.5, 'job', 'j')).message).toContain('expected an integer');
    expect(configErrorOf(() => validateConfigEntry('runtime.linger.ms', 'x', 'job', 'j')).message).toContain('expected a number');
  });

  it('checks every numeric key against its declared range', () => {
    for (const d of numeric) {
      if (d.min !== undefined) {
        expect(configErrorOf(() => validateConfigEntry(d.key, d.min! - 1, d.scope === 'operator' ? 'operator' : 'job', 'j')).code).toBe(
          'CONFIG_INVALID_VALUE',
        );
      }
      if (d.max !== undefined) {
        expect(configErrorOf(() => validateConfigEntry(d.key, d.max! + 1, d.scope === 'operator' ? 'operator' : 'job', 'j')).code).toBe(
          'CONFIG_INVALID_VALUE',
        );
      }
    }
  });
});

describe('validateConfigEntry: scope', () => {
  it('rejects a job-only key on an operator with CONFIG_WRONG_SCOPE', () => {
    expect(jobOnly.length).toBeGreaterThan(0);
    for (const d of jobOnly) {
      const e = configErrorOf(() => validateConfigEntry(d.key, d.default, 'operator', 'operator "map" (map-1)'));
      expect(e.code).toBe('CONFIG_WRONG_SCOPE');
      expect(e.key).toBe(d.key);
      expect(e.message).toContain(`'${d.key}'`);
      expect(e.message).toContain('operator "map" (map-1)');
      expect(e.message).toContain('job');
    }
  });

  it('reports the scope before the value', () => {
    const e = configErrorOf(() => validateConfigEntry('parallelism.default', -5, 'operator', 'o'));
    expect(e.code).toBe('CONFIG_WRONG_SCOPE');
  });

  it('accepts job-only keys on the job and shared keys on both', () => {
    for (const d of jobOnly) expect(() => validateConfigEntry(d.key, d.default, 'job', 'j')).not.toThrow();
    for (const d of anyScope) {
      expect(() => validateConfigEntry(d.key, d.default, 'job', 'j')).not.toThrow();
      expect(() => validateConfigEntry(d.key, d.default, 'operator', 'o')).not.toThrow();
    }
  });
});

describe('validateConfig', () => {
  it('accepts an empty map and a map of valid entries', () => {
    expect(() => validateConfig({}, 'job', 'job options')).not.toThrow();
    expect(() => validateConfig(defaultConfig(), 'job', 'job options')).not.toThrow();
    expect(() => validateConfig({ 'runtime.batch.size': 16, 'runtime.linger.ms': 1 }, 'operator', 'o')).not.toThrow();
  });

  it('throws for the bad entry among good ones, naming it', () => {
    const e = configErrorOf(() =>
      validateConfig({ 'runtime.batch.size': 16, 'runtime.channel.credits': 0, 'runtime.linger.ms': 1 }, 'job', 'job options'),
    );
    expect(e.code).toBe('CONFIG_INVALID_VALUE');
    expect(e.key).toBe('runtime.channel.credits');
  });

  it('passes the scope through', () => {
    expect(configErrorOf(() => validateConfig({ 'job.max-parallelism': 64 }, 'operator', 'o')).code).toBe('CONFIG_WRONG_SCOPE');
    expect(() => validateConfig({ 'job.max-parallelism': 64 }, 'job', 'j')).not.toThrow();
    expect(configErrorOf(() => validateConfig({ 'runtime.batch.sise': 64 }, 'operator', 'o')).code).toBe('CONFIG_UNKNOWN_KEY');
  });
});

describe('typed options', () => {
  it('getConfig reads a set value and falls back to the default', async () => {
    const { CoreOptions, getConfig, getOperatorConfig } = await import('./config.js');
    expect(getConfig({ 'checkpoint.interval.ms': 250 }, CoreOptions.CHECKPOINT_INTERVAL_MS)).toBe(250);
    expect(getConfig({}, CoreOptions.CHECKPOINT_INTERVAL_MS)).toBe(0);
    expect(getConfig({}, CoreOptions.FAILOVER_STRATEGY)).toBe('single-task');
    expect(getOperatorConfig({ 'runtime.batch.size': 7 }, { 'runtime.batch.size': 9 }, CoreOptions.BATCH_SIZE)).toBe(7);
    expect(getOperatorConfig({}, { 'runtime.batch.size': 9 }, CoreOptions.BATCH_SIZE)).toBe(9);
    expect(getOperatorConfig({}, {}, CoreOptions.BATCH_SIZE)).toBe(1024);
  });

  it('CONFIG_KEYS is the engine options, each under its own key', async () => {
    const { CoreOptions } = await import('./config.js');
    expect(CONFIG_KEYS.map((d) => d.key).sort()).toEqual(Object.values(CoreOptions).map((o) => o.key).sort());
  });

  it('a registered plugin option is validated and defaulted; a conflicting one is refused', async () => {
    const { configOption, registerConfigOptions, knownConfigKeys } = await import('./config.js');
    const option = configOption<number>({ key: 'test.plugin.size', type: 'integer', default: 3, min: 1, scope: 'job', doc: 'a test option' });
    expect(() => validateConfigEntry('test.plugin.size', 2, 'job', 'job option')).toThrow(/unknown config key 'test.plugin.size'/);
    registerConfigOptions([option]);
    registerConfigOptions([option]);
    expect(knownConfigKeys().some((d) => d.key === 'test.plugin.size')).toBe(true);
    expect(() => validateConfigEntry('test.plugin.size', 2, 'job', 'job option')).not.toThrow();
    expect(() => validateConfigEntry('test.plugin.size', 0, 'job', 'job option')).toThrow(/must be at least 1/);
    expect(defaultConfig()['test.plugin.size']).toBe(3);
    expect(() => registerConfigOptions([{ ...option, default: 4 }])).toThrow(/already declared/);
  });
});

describe('an integer key that takes auto', () => {
  it('takes auto and integers in range, refuses other strings and names auto in the error', () => {
    expect(() => validateConfigEntry('execution.threads', 'auto', 'job', 'test')).not.toThrow();
    expect(() => validateConfigEntry('execution.threads', 3, 'job', 'test')).not.toThrow();
    expect(() => validateConfigEntry('execution.threads', 'many', 'job', 'test')).toThrow(/expected an integer or 'auto'/);
    expect(() => validateConfigEntry('execution.threads', -1, 'job', 'test')).toThrow(/at least 0/);
  });
});
