// The cases of describeStateBackend on restoring into other key-group ranges (rescaling) and on value round trips.
import { type StateKey, type StateSnapshot, type TaskStateBackend } from '@mobius/interface';
import { expect, it } from 'vitest';
import { suiteKeyGroupRange } from './suite-key-groups.js';
import { type StateBackendSuiteContext } from './state-backend-suite-context.js';

export function describeRescaleCases(ctx: StateBackendSuiteContext): void {
  const { task, newJob, kg, KEYS, timeout, ALL, MAX_P } = ctx;
  it('rescale 2 → 3: each new task keeps only its key groups, and together they hold the original state', { timeout }, async () => {
    const job = newJob();
    const names = ['count', 'last'];
    const ranges2 = [0, 1].map((i) => suiteKeyGroupRange(i, 2, MAX_P));
    const old = [await task(0, ranges2[0], job), await task(1, ranges2[1], job)];
    const owner = (k: StateKey): number => (kg(k) <= ranges2[0].end ? 0 : 1);
    KEYS.forEach((k, i) => {
      old[owner(k)].keyed<number>('count').put(k, i);
      old[owner(k)].keyed<unknown>('last').put(k, { key: k, at: [i, `${i}`] });
    });
    expect(old.every((s) => s.keyed('count').size() > 0)).toBe(true);
    const snapshots = [await old[0].snapshot(3), await old[1].snapshot(3)];

    const job2 = newJob();
    const fresh: TaskStateBackend[] = [];
    for (let j = 0; j < 3; j++) fresh.push(await task(j, suiteKeyGroupRange(j, 3, MAX_P), job2));
    for (const s of fresh) await s.restore(snapshots);

    const union = new Map<string, unknown>();
    for (let j = 0; j < 3; j++) {
      const range = suiteKeyGroupRange(j, 3, MAX_P);
      for (const n of names) {
        const store = fresh[j].keyed<unknown>(n);
        let held = 0;
        for (const k of KEYS) {
          const v = store.get(k);
          if (v === undefined) continue;
          held++;
          expect(kg(k) >= range.start && kg(k) <= range.end, `task ${j} holds ${String(k)} of group ${kg(k)}`).toBe(true);
          const id = `${n}/${typeof k}/${String(k)}`;
          expect(union.has(id), `${id} restored twice`).toBe(false);
          union.set(id, v);
        }
        expect(store.size(), `task ${j} state ${n}: nothing else was restored`).toBe(held);
      }
    }
    const original = new Map<string, unknown>();
    KEYS.forEach((k, i) => {
      original.set(`count/${typeof k}/${String(k)}`, i);
      original.set(`last/${typeof k}/${String(k)}`, { key: k, at: [i, `${i}`] });
    });
    expect(union).toEqual(original);
  });

  it('rescale 3 → 1 merges every snapshot', { timeout }, async () => {
    const job = newJob();
    const ranges = [0, 1, 2].map((i) => suiteKeyGroupRange(i, 3, MAX_P));
    const old: TaskStateBackend[] = [];
    for (let i = 0; i < 3; i++) old.push(await task(i, ranges[i], job));
    for (const k of KEYS) {
      const i = ranges.findIndex((r) => kg(k) >= r.start && kg(k) <= r.end);
      old[i].keyed<string>('s').put(k, `v-${String(k)}`);
    }
    const snaps: StateSnapshot[] = [];
    for (const s of old) snaps.push(await s.snapshot(1));
    const one = await task(0, ALL);
    await one.restore(snaps);
    const store = one.keyed<string>('s');
    expect(store.size()).toBe(KEYS.length);
    for (const k of KEYS) expect(store.get(k)).toBe(`v-${String(k)}`);
  });

  it('values round-trip: objects, arrays, nested, strings, numbers, booleans, null', { timeout }, async () => {
    const values: Record<string, unknown> = {
      obj: { a: 1, b: { c: [1, 2, { d: 'x' }] } },
      arr: [1, 'two', [3], { four: 4 }],
      tuple: ['word', 3],
      nested: { deep: { deeper: { deepest: [[[]], {}, [{ x: null }]] } } },
      emptyObj: {},
      emptyArr: [],
      int: 42,
      zero: 0,
      negative: -7,
      float: -0.125,
      big: Number.MAX_SAFE_INTEGER,
      str: 'héllo 😀',
      empty: '',
      long: 'x'.repeat(100_000),
      bool: false,
      nul: null,
    };
    const state = await task(0, ALL);
    const store = state.keyed<unknown>('v');
    for (const [k, v] of Object.entries(values)) store.put(k, v);
    for (const [k, v] of Object.entries(values)) expect(store.get(k), `before snapshot: ${k}`).toEqual(v);
    const restored = await task(0, ALL);
    await restored.restore([await state.snapshot(1)]);
    const r = restored.keyed<unknown>('v');
    expect(r.size()).toBe(Object.keys(values).length);
    for (const [k, v] of Object.entries(values)) {
      expect(r.get(k), k).toEqual(v);
      if (typeof v === 'object' && v !== null) expect(r.get(k), `${k} is a copy`).not.toBe(v);
    }
  });
}
