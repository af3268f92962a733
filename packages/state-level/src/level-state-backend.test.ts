import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, StateError, type KeyGroupRange, type StateKey, type StateSnapshot, type TaskStateScope } from '@mobius/interface';
import { restoreChain, suiteKeyGroupOf, suiteKeyGroupRange } from '@mobius/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LevelStateBackend, type LevelStateSnapshot, type LevelTaskState } from './index.js';

const MAX_P = 128;
const ALL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
const kg = (key: StateKey): number => suiteKeyGroupOf(key, MAX_P);
const root = mkdtempSync(join(tmpdir(), 'mobius-level-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const live: LevelTaskState[] = [];
afterEach(async () => {
  for (const t of live.splice(0)) await t.dispose();
});

let jobs = 0;
function scope(taskIndex: number, keyGroups: KeyGroupRange, jobId = `job-${++jobs}`): TaskStateScope {
  return { jobId, operatorId: 'reduce-3', taskIndex, maxParallelism: MAX_P, keyGroups, keyGroupOf: kg };
}
async function open(s: TaskStateScope, options: { cacheEntries?: number; maxIncrementalChain?: number } = {}): Promise<LevelTaskState> {
  const t = await new LevelStateBackend({ directory: root, ...options }).open(s);
  live.push(t);
  return t;
}
const bytesOf = (snap: StateSnapshot): number => [...snap.groups.values()].reduce((n, b) => n + b.byteLength, 0);

describe('LevelStateBackend: files and lifecycle', () => {
  it('keeps one LevelDB per task in <directory>/<jobId>/<operatorId>-<taskIndex>; dispose() removes it', async () => {
    const t = await open(scope(2, ALL, 'files-job'));
    t.keyed<number>('s').put('k', 1);
    expect(t.location).toBe(join(root, 'files-job', 'reduce-3-2'));
    expect(readdirSync(t.location)).toContain('CURRENT');
    await t.close();
    expect(existsSync(t.location)).toBe(true); // close keeps the files
    await t.dispose();
    expect(existsSync(t.location)).toBe(false);
    expect(existsSync(join(root, 'files-job'))).toBe(false); // the empty job folder goes too
  });

  it('a new task starts empty even if a previous attempt left files; access after close throws STATE_CLOSED', async () => {
    const s = scope(0, ALL);
    const first = await open(s, { cacheEntries: 2 });
    for (let i = 0; i < 10; i++) first.keyed<number>('s').put(i, i); // some of them reach the disk
    await first.close();
    const second = await open(s);
    expect(second.keyed<number>('s').get(1)).toBeUndefined();
    expect(second.keyed<number>('s').size()).toBe(0);
    await second.close();
    expect(() => second.keyed<number>('s').get(1)).toThrowError(StateError);
    expect(() => second.keyed<number>('s').put(1, 1)).toThrowError(expect.objectContaining({ code: 'STATE_CLOSED' }));
  });

  it('uses a given Serializer', async () => {
    let calls = 0;
    const json = {
      serialize: (v: { n: number }) => {
        calls++;
        return new TextEncoder().encode(JSON.stringify(v));
      },
      deserialize: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as { n: number },
    };
    const t = await open(scope(0, ALL), { cacheEntries: 4 });
    const s = t.keyed('json', json);
    for (let i = 0; i < 50; i++) s.put(`k${i}`, { n: i });
    for (let i = 0; i < 50; i++) expect(s.get(`k${i}`)).toEqual({ n: i });
    expect(calls).toBeGreaterThan(0);
  });
});

describe('LevelStateBackend: cache bound', () => {
  it('cacheEntries 1,000 with 200,000 keys written: never more than 1,000 entries in memory, every value reads back', { timeout: 60_000 }, async () => {
    const t = await open(scope(0, ALL), { cacheEntries: 1000 });
    const store = t.keyed<{ i: number; w: string }>('words');
    let worst = 0;
    const check = (): void => {
      const s = t.stats();
      const held = s.cached + s.flushing;
      if (held > worst) worst = held;
      if (s.dirty > s.cached) expect(s.dirty).toBeLessThanOrEqual(s.cached);
    };
    for (let i = 0; i < 200_000; i++) {
      store.put(`key-${i}`, { i, w: `w${i}` });
      check();
      if (i % 10_000 === 9_999) await new Promise((r) => setImmediate(r)); // let writes complete asynchronously too
    }
    expect(store.size()).toBe(200_000);
    for (let i = 0; i < 200_000; i++) {
      const v = store.get(`key-${i}`);
      if (v?.i !== i || v.w !== `w${i}`) expect(v, `key-${i}`).toEqual({ i, w: `w${i}` });
      check();
    }
    // updates and deletes of evicted keys
    for (let i = 0; i < 200_000; i += 100) store.put(`key-${i}`, { i: -i - 1, w: 'u' });
    for (let i = 50; i < 200_000; i += 100) store.delete(`key-${i}`);
    check();
    expect(store.size()).toBe(200_000 - 2000);
    for (let i = 0; i < 200_000; i += 50) {
      const v = store.get(`key-${i}`);
      if (i % 100 === 0) expect(v).toEqual({ i: -i - 1, w: 'u' });
      else expect(v).toBeUndefined();
    }
    const stats = t.stats();
    console.log(`[cache] cacheEntries 1000, 200000 keys: worst held ${worst}, peak ${stats.peak}, batches ${stats.batches}, blocking waits ${stats.blockingWaits}`);
    expect(worst).toBeLessThanOrEqual(1000);
    expect(stats.peak).toBeLessThanOrEqual(1000);
    expect(stats.capacity).toBe(1000);
  });
});

describe('LevelStateBackend: incremental snapshots', () => {
  const KEYS = 1_000_000;
  it('after changing 1% of 1,000,000 keys, the incremental snapshot is at most 5% of a full one', { timeout: 180_000 }, async () => {
    const t = await open(scope(0, ALL), { cacheEntries: 20_000 });
    const store = t.keyed<{ count: number; word: string }>('counts');
    for (let i = 0; i < KEYS; i++) store.put(`word-${i}`, { count: i, word: `word-${i}` });
    const full = await t.snapshot(1);
    expect(full.incremental).toBe(false);
    for (let i = 0; i < KEYS; i += 100) store.put(`word-${i}`, { count: -1, word: 'changed' }); // 1%
    const delta = await t.snapshot(2);
    expect(delta.incremental).toBe(true);
    expect(delta.baseCheckpointId).toBe(1);
    const fullBytes = bytesOf(full);
    const deltaBytes = bytesOf(delta);
    console.log(`[incremental] full snapshot ${fullBytes} bytes, incremental after 1% changed ${deltaBytes} bytes (${((100 * deltaBytes) / fullBytes).toFixed(2)}%)`);
    expect(deltaBytes).toBeLessThanOrEqual(0.05 * fullBytes);

    // restore = base + delta
    const r = await open(scope(0, ALL));
    await r.restore([full, delta]);
    const rs = r.keyed<{ count: number; word: string }>('counts');
    expect(rs.size()).toBe(KEYS);
    for (let i = 0; i < KEYS; i += 997) expect(rs.get(`word-${i}`)).toEqual(i % 100 === 0 ? { count: -1, word: 'changed' } : { count: i, word: `word-${i}` });
  });

  it('an unchanged state gives an empty delta; deletes survive restore as tombstones', async () => {
    const t = await open(scope(0, ALL), { cacheEntries: 50 });
    const s = t.keyed<number>('s');
    for (let i = 0; i < 500; i++) s.put(i, i);
    const s1 = await t.snapshot(1);
    const s2 = await t.snapshot(2);
    expect(s2.incremental).toBe(true);
    expect(s2.groups.size).toBe(0);
    for (let i = 0; i < 500; i += 5) s.delete(i);
    s.put('new', 1);
    s.delete('new'); // never reached a snapshot
    const s3 = await t.snapshot(3);
    expect(s3.incremental).toBe(true);
    expect(s3.baseCheckpointId).toBe(2);
    const r = await open(scope(0, ALL));
    await r.restore(restoreChain(s3, [s1, s2, s3]));
    const rs = r.keyed<number>('s');
    expect(rs.size()).toBe(400);
    for (let i = 0; i < 500; i++) expect(rs.get(i)).toBe(i % 5 === 0 ? undefined : i);
    expect(rs.get('new')).toBeUndefined();
  });

  it('writes made while a snapshot is being taken are not in it', async () => {
    const t = await open(scope(0, ALL), { cacheEntries: 10 });
    const s = t.keyed<number>('s');
    for (let i = 0; i < 100; i++) s.put(i, i);
    const pending = t.snapshot(1);
    for (let i = 0; i < 100; i++) s.put(i, -i); // evictions write these while the snapshot waits
    for (let i = 100; i < 200; i++) s.put(i, i);
    const snap = await pending;
    const r = await open(scope(0, ALL));
    await r.restore([snap]);
    const rs = r.keyed<number>('s');
    expect(rs.size()).toBe(100);
    for (let i = 0; i < 200; i++) expect(rs.get(i)).toBe(i < 100 ? i : undefined);
    const next = await t.snapshot(2); // and they are in the next one
    const r2 = await open(scope(0, ALL));
    await r2.restore([snap, next]);
    for (let i = 1; i < 200; i++) expect(r2.keyed<number>('s').get(i)).toBe(i < 100 ? -i : i);
  });

  it('an aborted checkpoint is not used as a base; a full snapshot every maxIncrementalChain + 1', async () => {
    const t = await open(scope(0, ALL), { maxIncrementalChain: 2 });
    const s = t.keyed<number>('s');
    s.put('a', 1);
    const c1 = await t.snapshot(1);
    s.put('b', 2);
    const c2 = await t.snapshot(2); // never completes
    t.notifyCheckpointAborted(2);
    s.put('c', 3);
    const c3 = await t.snapshot(3);
    expect([c1.incremental, c2.incremental, c3.incremental]).toEqual([false, true, true]);
    expect(c3.baseCheckpointId).toBe(1); // b's change is carried into c3
    const r = await open(scope(0, ALL));
    await r.restore([c1, c3]);
    expect([r.keyed('s').get('a'), r.keyed('s').get('b'), r.keyed('s').get('c')]).toEqual([1, 2, 3]);
    const c4 = await t.snapshot(4);
    const c5 = await t.snapshot(5);
    expect(c4.incremental).toBe(true);
    expect(c5.incremental).toBe(false); // chain of 2 deltas reached
    const c6 = await t.snapshot(6, { full: true });
    expect(c6.incremental).toBe(false);
  });

  it('restore refuses a delta without its base, and snapshots of another backend', async () => {
    const t = await open(scope(0, ALL));
    t.keyed<number>('s').put('a', 1);
    await t.snapshot(1);
    t.keyed<number>('s').put('b', 1);
    const delta = await t.snapshot(2);
    const r = await open(scope(0, ALL));
    await expect(r.restore([delta])).rejects.toThrowError(/needs its base checkpoint 1/);
    const foreign: StateSnapshot = { backend: 'memory', operatorId: 'x', checkpointId: 1, keyGroups: ALL, groups: new Map() };
    await expect(r.restore([foreign])).rejects.toThrowError(StateError);
    const corrupt: LevelStateSnapshot = { ...delta, incremental: false, groups: new Map([[kg('a'), Uint8Array.of(1, 2, 3)]]) };
    await expect(r.restore([corrupt])).rejects.toThrowError(CheckpointError);
  });
});

describe('LevelStateBackend: key groups and rescaling', () => {
  it('rescale 2 → 3 with incremental chains: each new task holds only its key groups, the union equals the original', { timeout: 60_000 }, async () => {
    const N = 20_000;
    const ranges2 = [0, 1].map((i) => suiteKeyGroupRange(i, 2, MAX_P));
    const job = `rescale-${++jobs}`;
    const old = [await open(scope(0, ranges2[0], job), { cacheEntries: 500 }), await open(scope(1, ranges2[1], job), { cacheEntries: 500 })];
    const owner = (k: StateKey): number => (kg(k) <= ranges2[0].end ? 0 : 1);
    const original = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const k = i % 2 === 0 ? `k${i}` : i;
      old[owner(k)].keyed<number>('s').put(k, i);
      original.set(`${typeof k}:${k}`, i);
    }
    const history: LevelStateSnapshot[] = [];
    for (const t of old) history.push(await t.snapshot(1));
    for (let i = 0; i < N; i += 10) {
      const k = i % 2 === 0 ? `k${i}` : i;
      if (i % 20 === 0) {
        old[owner(k)].keyed<number>('s').delete(k);
        original.delete(`${typeof k}:${k}`);
      } else {
        old[owner(k)].keyed<number>('s').put(k, -i);
        original.set(`${typeof k}:${k}`, -i);
      }
    }
    const latest: LevelStateSnapshot[] = [];
    for (const t of old) latest.push(await t.snapshot(2));
    expect(latest.every((s) => s.incremental)).toBe(true);
    // Each snapshot's groups lie in its task's range.
    for (const [i, s] of [...history, ...latest].entries()) for (const g of s.groups.keys()) expect(g >= ranges2[i % 2].start && g <= ranges2[i % 2].end).toBe(true);
    const list = latest.flatMap((s) => restoreChain(s, history));

    const job2 = `rescale-${++jobs}`;
    const union = new Map<string, number>();
    let total = 0;
    for (let j = 0; j < 3; j++) {
      const range = suiteKeyGroupRange(j, 3, MAX_P);
      const t = await open(scope(j, range, job2), { cacheEntries: 500 });
      await t.restore(list);
      const s = t.keyed<number>('s');
      total += s.size();
      for (let i = 0; i < N; i++) {
        const k = i % 2 === 0 ? `k${i}` : i;
        const v = s.get(k);
        if (v === undefined) continue;
        expect(kg(k) >= range.start && kg(k) <= range.end).toBe(true);
        union.set(`${typeof k}:${k}`, v);
      }
    }
    expect(total).toBe(original.size);
    expect(union).toEqual(original);
  });
});
