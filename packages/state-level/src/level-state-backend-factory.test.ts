import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StateBackendRegistry, keyGroupOf, validateConfigEntry, type StateSnapshot } from '@mobius/interface';
import { LevelStateBackend } from './level-state-backend.js';
import { levelStateBackendFactory, LevelOptions } from './level-state-backend-factory.js';

const registry = new StateBackendRegistry([levelStateBackendFactory]);
const config = (extra: Record<string, number | string> = {}) => ({ 'state.backend': 'level', ...extra });

describe('levelStateBackendFactory', () => {
  it("registers its own key, state.level.cache-entries, when an app loads it", () => {
    expect(LevelOptions.CACHE_ENTRIES.key).toBe('state.level.cache-entries');
    expect(() => validateConfigEntry('state.level.cache-entries', 50, 'job', 'job options')).not.toThrow();
    expect(() => validateConfigEntry('state.level.cache-entries', 0, 'job', 'job options')).toThrow(/at least 1/);
    expect(() => validateConfigEntry('state.backend', 'level', 'job', 'job options')).not.toThrow();
  });

  it('creates an incremental LevelDB backend with the configured cache, and dispose removes its job folder', async () => {
    const backend = registry.create(config({ 'state.level.cache-entries': 7 }));
    expect(backend).toBeInstanceOf(LevelStateBackend);
    expect((backend as LevelStateBackend).options).toMatchObject({ cacheEntries: 7, incremental: true });
    const jobId = `factory-test-${process.pid}`;
    const task = await (backend as LevelStateBackend).open({
      jobId,
      operatorId: 'op',
      taskIndex: 0,
      maxParallelism: 8,
      keyGroups: { start: 0, end: 7 },
      keyGroupOf: (k) => keyGroupOf(k, 8),
    });
    const counts = task.keyed<number>('counts');
    for (let i = 0; i < 100; i++) counts.put(`k${i}`, i);
    expect(counts.size()).toBe(100);
    expect(task.stats().peak).toBeLessThanOrEqual(7);
    const full = await task.snapshot(1);
    await task.close();
    // The compactor merges a chain through the backend's own code: one full snapshot stays itself.
    const compacted = registry.compactor(config())!([full]) as StateSnapshot;
    expect(compacted.checkpointId).toBe(1);
    expect([...compacted.groups.keys()].sort()).toEqual([...full.groups.keys()].sort());
    const folder = join(tmpdir(), 'mobius-state', String(process.pid), jobId);
    expect(existsSync(folder)).toBe(true);
    registry.dispose(config(), jobId);
    expect(existsSync(folder)).toBe(false);
  });

  it('keeps a whole incremental chain of checkpoints', () => {
    expect(registry.retainedCheckpoints(config({ 'checkpoint.retained': 2 }))).toBe(11);
    expect(registry.retainedCheckpoints(config({ 'checkpoint.retained': 30 }))).toBe(30);
  });
});

describe('README config table', () => {
  // The rows scripts/config-table.mjs writes; the README must hold exactly these.
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const documented = readme.split('\n').filter((line) => line.startsWith('| `state.'));

  it('documents every LevelOptions key as declared, and no other', () => {
    const expected = Object.values(LevelOptions).map(
      (d) => `| \`${d.key}\` | ${d.type} | \`${String(d.default)}\` | ${d.scope} | ${d.min ?? ''} ..${d.max !== undefined ? ` ${d.max}` : ''} | ${d.doc} |`,
    );
    expect(documented).toEqual(expected);
  });
});
