import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyGroupRange, StateKey, TaskStateScope } from '@mobius/interface';
import { suiteKeyGroupOf } from '@mobius/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LevelStateBackend, compactLevelSnapshots, type LevelTaskState } from './index.js';

const MAX_P = 128;
const ALL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
const root = mkdtempSync(join(tmpdir(), 'mobius-compact-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const live: LevelTaskState[] = [];
afterEach(async () => {
  for (const t of live.splice(0)) await t.dispose();
});
let jobs = 0;
async function open(): Promise<LevelTaskState> {
  const scope: TaskStateScope = { jobId: `compact-${++jobs}`, operatorId: 'reduce-3', taskIndex: 0, maxParallelism: MAX_P, keyGroups: ALL, keyGroupOf: (k: StateKey) => suiteKeyGroupOf(k, MAX_P) };
  const t = await new LevelStateBackend({ directory: root, cacheEntries: 500 }).open(scope);
  live.push(t);
  return t;
}

describe('compactLevelSnapshots', () => {
  it('merges a full snapshot and its deltas (puts, overwrites, deletes) into one full snapshot that restores the same state', async () => {
    const t = await open();
    const store = t.keyed<number>('counts');
    for (let i = 0; i < 5000; i++) store.put(`k${i}`, i);
    const full = await t.snapshot(1);
    for (let i = 0; i < 5000; i += 10) store.put(`k${i}`, -i);
    for (let i = 5; i < 5000; i += 50) store.delete(`k${i}`);
    const delta1 = await t.snapshot(2);
    for (let i = 5000; i < 5100; i++) store.put(`k${i}`, i);
    store.put('k5', 55); // deleted in delta 1, back in delta 2
    const delta2 = await t.snapshot(3);
    expect([full.incremental, delta1.incremental, delta2.incremental]).toEqual([false, true, true]);

    const compacted = compactLevelSnapshots([full, delta1, delta2]);
    expect(compacted.incremental).toBe(false);
    expect(compacted.checkpointId).toBe(3);
    expect(compacted.baseCheckpointId).toBeUndefined();

    const fromChain = await open();
    await fromChain.restore([full, delta1, delta2]);
    const fromCompacted = await open();
    await fromCompacted.restore([compacted]);
    const a = fromChain.keyed<number>('counts');
    const b = fromCompacted.keyed<number>('counts');
    expect(b.size()).toBe(a.size());
    for (let i = 0; i < 5100; i++) expect(b.get(`k${i}`), `k${i}`).toEqual(a.get(`k${i}`));
    expect(b.get('k5')).toBe(55);
    expect(b.get('k55')).toBeUndefined(); // deleted in delta 1
  });

  it('refuses a chain that does not start with a full snapshot', async () => {
    const t = await open();
    t.keyed<number>('counts').put('a', 1);
    await t.snapshot(1);
    t.keyed<number>('counts').put('a', 2);
    const delta = await t.snapshot(2);
    expect(() => compactLevelSnapshots([delta])).toThrow(/must start with a full snapshot/);
  });
});
