import type { KeyGroupRange, StateKey, StateSnapshot, TaskStateBackend } from '@mobius/interface';
import { keyGroupOf, keyGroupRangeFor, normalizeKey } from '@mobius/interface';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';

const MAX_P = 32;

function taskState(index: number, keyGroups: KeyGroupRange, maxParallelism = MAX_P): TaskStateBackend {
  return new MemoryStateBackend().create({
    jobId: 'job-1',
    operatorId: 'reduce-3',
    taskIndex: index,
    maxParallelism,
    keyGroups,
    keyGroupOf: (key) => keyGroupOf(key, maxParallelism),
  });
}

const ALL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
const kg = (key: StateKey): number => keyGroupOf(key, MAX_P);

/** Everything a task holds, per state name, as sorted [key, value] lists. */
function contents(state: TaskStateBackend, names: readonly string[], keys: readonly StateKey[]): Record<string, [StateKey, unknown][]> {
  const out: Record<string, [StateKey, unknown][]> = {};
  for (const name of names) {
    const store = state.keyed<unknown>(name);
    out[name] = keys.filter((k) => store.get(k) !== undefined).map((k) => [k, store.get(k)]);
  }
  return out;
}

const KEYS: StateKey[] = [
  ...Array.from({ length: 60 }, (_, i) => `word-${i}`),
  ...Array.from({ length: 30 }, (_, i) => i * 7),
  true,
  false,
  normalizeKey(['user', 1]),
  normalizeKey({ a: 1 }),
];

describe('MemoryStateBackend: keyed stores', () => {
  it('keyed(name) gives one store per name, get/put/delete/size', () => {
    const state = taskState(0, ALL);
    const a = state.keyed<number>('a');
    expect(state.keyed<number>('a')).toBe(a);
    const b = state.keyed<number>('b');
    expect(b).not.toBe(a);
    a.put('k', 1);
    a.put(2, 2);
    expect(a.get('k')).toBe(1);
    expect(b.get('k')).toBeUndefined();
    expect(a.size()).toBe(2);
    a.put('k', 3);
    expect(a.get('k')).toBe(3);
    expect(a.size()).toBe(2);
    a.delete('k');
    expect(a.get('k')).toBeUndefined();
    expect(a.size()).toBe(1);
  });

  it('keeps values by reference until a snapshot (no copy on access)', () => {
    const store = taskState(0, ALL).keyed<{ n: number }>('s');
    const v = { n: 1 };
    store.put('k', v);
    expect(store.get('k')).toBe(v);
  });

  it('close() drops the state', async () => {
    const state = taskState(0, ALL);
    state.keyed<number>('a').put('k', 1);
    await state.close();
    expect(state.keyed<number>('a').get('k')).toBeUndefined();
  });
});

describe('MemoryStateBackend: snapshot and restore', () => {
  it('a snapshot names its backend, operator, checkpoint and key groups, and splits the keys by key group', async () => {
    const range = keyGroupRangeFor(0, 1, MAX_P);
    const state = taskState(0, range);
    const store = state.keyed<number>('count');
    KEYS.forEach((k, i) => store.put(k, i));
    const snap = await state.snapshot(7);
    expect(snap.backend).toBe('memory');
    expect(snap.operatorId).toBe('reduce-3');
    expect(snap.checkpointId).toBe(7);
    expect(snap.keyGroups).toEqual(range);
    expect(new Set(snap.groups.keys())).toEqual(new Set(KEYS.map(kg)));
    for (const bytes of snap.groups.values()) expect(bytes).toBeInstanceOf(Uint8Array);

    // Each group holds exactly its keys: restoring one group alone gives those keys only.
    for (const group of snap.groups.keys()) {
      const one = taskState(0, { start: group, end: group });
      await one.restore([snap]);
      const restored = one.keyed<number>('count');
      const expected = KEYS.filter((k) => kg(k) === group);
      expect(restored.size(), `group ${group}`).toBe(expected.length);
      for (const k of expected) expect(restored.get(k)).toBe(KEYS.indexOf(k));
    }
  });

  it('computes key groups with the keyGroupOf of its scope', async () => {
    const asked: StateKey[] = [];
    const state = new MemoryStateBackend().create({
      jobId: 'job-1',
      operatorId: 'op',
      taskIndex: 0,
      maxParallelism: 4,
      keyGroups: { start: 0, end: 3 },
      keyGroupOf: (key) => {
        asked.push(key);
        return typeof key === 'string' ? 1 : 3;
      },
    });
    const store = state.keyed<number>('s');
    store.put('a', 1);
    store.put(2, 2);
    store.get('a');
    expect(asked).toEqual([]); // no hashing on access
    const snap = await state.snapshot(1);
    expect(asked.sort()).toEqual([2, 'a'].sort());
    expect([...snap.groups.keys()].sort()).toEqual([1, 3]);
  });

  it('an empty state snapshots to no groups', async () => {
    const snap = await taskState(0, ALL).snapshot(1);
    expect(snap.groups.size).toBe(0);
  });

  it('the snapshot is a copy: later writes do not change it', async () => {
    const state = taskState(0, ALL);
    const store = state.keyed<{ n: number }>('s');
    const value = { n: 1 };
    store.put('k', value);
    const snap = await state.snapshot(1);
    value.n = 2;
    store.put('other', { n: 3 });
    const restored = taskState(0, ALL);
    await restored.restore([snap]);
    expect(restored.keyed<{ n: number }>('s').get('k')).toEqual({ n: 1 });
    expect(restored.keyed<{ n: number }>('s').get('other')).toBeUndefined();
  });

  it('round-trips values: objects, arrays, numbers, strings, nested, Map, Date, null', async () => {
    const values: Record<string, unknown> = {
      obj: { a: 1, b: { c: [1, 2, { d: 'x' }] } },
      arr: [1, 'two', [3], { four: 4 }],
      tuple: ['word', 3],
      int: 42,
      float: -0.125,
      big: Number.MAX_SAFE_INTEGER,
      nan: Number.NaN,
      str: 'héllo 😀',
      empty: '',
      bool: false,
      nul: null,
      map: new Map([['k', 1]]),
      date: new Date(0),
    };
    const state = taskState(0, ALL);
    const store = state.keyed<unknown>('v');
    for (const [k, v] of Object.entries(values)) store.put(k, v);
    const restored = taskState(0, ALL);
    await restored.restore([await state.snapshot(1)]);
    const r = restored.keyed<unknown>('v');
    expect(r.size()).toBe(Object.keys(values).length);
    for (const [k, v] of Object.entries(values)) {
      expect(r.get(k), k).toEqual(v);
      if (typeof v === 'object' && v !== null) expect(r.get(k)).not.toBe(v); // a copy, not the same object
    }
  });

  it('keeps several named states apart through a snapshot', async () => {
    const state = taskState(0, ALL);
    state.keyed<number>('a').put('k', 1);
    state.keyed<number>('b').put('k', 2);
    state.keyed<number>('b').put('j', 3);
    const restored = taskState(0, ALL);
    await restored.restore([await state.snapshot(1)]);
    expect(contents(restored, ['a', 'b'], ['k', 'j'])).toEqual({ a: [['k', 1]], b: [['k', 2], ['j', 3]] });
  });

  it('rescale 2 → 3: each new task keeps only its key groups, and together they hold the original state', async () => {
    const names = ['count', 'last'];
    // Two tasks, each holding the keys of its key-group range (as key partitioning guarantees).
    const old = [0, 1].map((i) => taskState(i, keyGroupRangeFor(i, 2, MAX_P)));
    const owner = (k: StateKey): number => (kg(k) <= keyGroupRangeFor(0, 2, MAX_P).end ? 0 : 1);
    KEYS.forEach((k, i) => {
      old[owner(k)].keyed<number>('count').put(k, i);
      old[owner(k)].keyed<unknown>('last').put(k, { key: k, at: [i, `${i}`] });
    });
    expect(old.every((s) => s.keyed('count').size() > 0)).toBe(true);
    const snapshots: StateSnapshot[] = await Promise.all(old.map((s) => s.snapshot(3)));

    const fresh = [0, 1, 2].map((j) => taskState(j, keyGroupRangeFor(j, 3, MAX_P)));
    for (const s of fresh) await s.restore(snapshots);

    const union = new Map<string, unknown>();
    for (let j = 0; j < 3; j++) {
      const range = keyGroupRangeFor(j, 3, MAX_P);
      for (const name of names) {
        const store = fresh[j].keyed<unknown>(name);
        let held = 0;
        for (const k of KEYS) {
          const v = store.get(k);
          if (v === undefined) continue;
          held++;
          expect(kg(k) >= range.start && kg(k) <= range.end, `task ${j} holds ${String(k)} of group ${kg(k)}`).toBe(true);
          const id = `${name}/${typeof k}/${String(k)}`;
          expect(union.has(id), `${id} restored twice`).toBe(false);
          union.set(id, v);
        }
        expect(store.size()).toBe(held); // nothing else was restored
      }
    }
    const original = new Map<string, unknown>();
    KEYS.forEach((k, i) => {
      original.set(`count/${typeof k}/${String(k)}`, i);
      original.set(`last/${typeof k}/${String(k)}`, { key: k, at: [i, `${i}`] });
    });
    expect(union).toEqual(original);
  });

  it('rescale 3 → 1 merges every snapshot', async () => {
    const old = [0, 1, 2].map((i) => taskState(i, keyGroupRangeFor(i, 3, MAX_P)));
    for (const k of KEYS) {
      const i = [0, 1, 2].find((t) => {
        const r = keyGroupRangeFor(t, 3, MAX_P);
        return kg(k) >= r.start && kg(k) <= r.end;
      })!;
      old[i].keyed<string>('s').put(k, `v-${String(k)}`);
    }
    const one = taskState(0, ALL);
    await one.restore(await Promise.all(old.map((s) => s.snapshot(1))));
    const store = one.keyed<string>('s');
    expect(store.size()).toBe(KEYS.length);
    for (const k of KEYS) expect(store.get(k)).toBe(`v-${String(k)}`);
  });

  it('restores version-1 groups (a [key, value] list per store name) written by earlier releases', async () => {
    const groups = new Map<number, Uint8Array>();
    for (const k of KEYS) {
      const g = kg(k);
      if (!groups.has(g)) groups.set(g, serialize({ count: KEYS.filter((x) => kg(x) === g).map((x) => [x, `old-${String(x)}`]), v: [] }));
    }
    const snap: StateSnapshot = { backend: 'memory', operatorId: 'reduce-3', checkpointId: 1, keyGroups: ALL, groups };
    const state = taskState(0, ALL);
    await state.restore([snap]);
    const store = state.keyed<string>('count');
    expect(store.size()).toBe(KEYS.length);
    for (const k of KEYS) expect(store.get(k)).toBe(`old-${String(k)}`);
    expect(state.keyed('v').size()).toBe(0);
  });

  it('a key whose group lies outside the task range (operator state of another task after a rescale) is kept in its own group', async () => {
    const state = new MemoryStateBackend().create({
      jobId: 'job-1',
      operatorId: 'op',
      taskIndex: 0,
      maxParallelism: 8,
      keyGroups: { start: 0, end: 3 },
      keyGroupOf: (key) => (key === 'foreign' ? 6 : 2),
    });
    state.keyed<number>('s').put('mine', 1);
    state.keyed<number>('s').put('foreign', 2);
    const snap = await state.snapshot(1);
    expect([...snap.groups.keys()].sort()).toEqual([2, 6]);
    const other = new MemoryStateBackend().create({ jobId: 'job-1', operatorId: 'op', taskIndex: 1, maxParallelism: 8, keyGroups: { start: 4, end: 7 }, keyGroupOf: () => 6 });
    await other.restore([snap]);
    expect(other.keyed<number>('s').get('foreign')).toBe(2);
    expect(other.keyed<number>('s').get('mine')).toBeUndefined();
  });
});
