import type { KeyGroupRange, StateKey, StateSnapshot, TaskStateBackend, TaskStateScope } from '@mobius/interface';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { prng } from './helpers.js';

/** How the state backend suite makes task states, and cleans up after itself. */
export interface StateBackendSuiteFactory {
  /** The state of one task (a fresh, empty one: every scope the suite passes is new). */
  create(scope: TaskStateScope): TaskStateBackend | Promise<TaskStateBackend>;
  /** Runs once after the suite (e.g. removes a temporary folder). The suite closes every task it made before. */
  cleanup?(): Promise<void>;
}

/** Knobs of the state backend suite. */
export interface StateBackendSuiteOptions {
  /** Keys of the many-keys test. Default 5,000. */
  readonly manyKeys?: number;
  /** Timeout of each test, ms. Default 30,000. */
  readonly testTimeoutMs?: number;
}

/**
 * The list to restore a checkpoint from: the snapshot itself, preceded by its base chain when
 * it is incremental (`incremental: true`, `baseCheckpointId`), oldest first. A base is the
 * snapshot of `history` with that checkpoint id, the same operator and the same key-group
 * range (the same task). This is what a checkpoint store does; a backend without incremental
 * snapshots gives a list of one.
 */
export function restoreChain(snapshot: StateSnapshot, history: readonly StateSnapshot[]): StateSnapshot[] {
  const chain: StateSnapshot[] = [snapshot];
  let s = snapshot;
  while (s.incremental === true) {
    const base = history.find(
      (h) =>
        h.checkpointId === s.baseCheckpointId && h.operatorId === s.operatorId && h.keyGroups.start === s.keyGroups.start && h.keyGroups.end === s.keyGroups.end,
    );
    if (base === undefined) throw new Error(`the base checkpoint ${String(s.baseCheckpointId)} of snapshot ${s.checkpointId} is not in the history`);
    chain.unshift(base);
    s = base;
  }
  return chain;
}

/** A stable key-group hash for the suite's scopes (FNV-1a over a typed encoding of the key). */
export function suiteKeyGroupOf(key: StateKey, maxParallelism: number): number {
  const text = `${typeof key}:${String(key)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % maxParallelism;
}

/** The key groups task `index` of `parallelism` owns (as the planner splits them). */
export function suiteKeyGroupRange(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  return {
    start: Math.floor((index * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((index + 1) * maxParallelism - 1) / parallelism),
  };
}

let suiteCounter = 0;

/**
 * Defines a vitest `describe` block with the tests every Mobius state backend must pass:
 * get/put/delete/size, independent named states, keys of different types, snapshot and
 * restore into a fresh task, restore keeping only the owned key groups (rescaling 2 → 3 and
 * 3 → 1), value round trips, and restoring an older or later checkpoint (through the base
 * chain when snapshots are incremental).
 *
 * ```ts
 * describeStateBackend('memory', { create: (scope) => new MemoryStateBackend().create(scope) });
 * ```
 */
export function describeStateBackend(name: string, factory: StateBackendSuiteFactory, options: StateBackendSuiteOptions = {}): void {
  const manyKeys = options.manyKeys ?? 5_000;
  const timeout = options.testTimeoutMs ?? 30_000;
  const suite = ++suiteCounter;
  const MAX_P = 32;
  const ALL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
  const kg = (key: StateKey): number => suiteKeyGroupOf(key, MAX_P);

  describe(`state backend compliance: ${name}`, () => {
    const live: TaskStateBackend[] = [];
    let jobCounter = 0;

    /** A fresh task state; `job` names a job so the tasks of one test share it. */
    async function task(index: number, keyGroups: KeyGroupRange, job = `suite-${suite}-job-${++jobCounter}`): Promise<TaskStateBackend> {
      const scope: TaskStateScope = {
        jobId: job,
        operatorId: 'reduce-1',
        taskIndex: index,
        maxParallelism: MAX_P,
        keyGroups,
        keyGroupOf: kg,
      };
      const state = await factory.create(scope);
      live.push(state);
      return state;
    }
    const newJob = (): string => `suite-${suite}-job-${++jobCounter}`;

    afterEach(async () => {
      const all = live.splice(0);
      for (const s of all) await s.close();
    });
    afterAll(async () => {
      await factory.cleanup?.();
    });

    const KEYS: StateKey[] = [
      ...Array.from({ length: 60 }, (_, i) => `word-${i}`),
      ...Array.from({ length: 30 }, (_, i) => i * 7 - 50),
      0.5,
      true,
      false,
      '',
      'héllo 😀',
      '["user",1]',
    ];

    /** What `state` holds of `keys` in each named state (undefined values left out). */
    function contents(state: TaskStateBackend, names: readonly string[], keys: readonly StateKey[]): Map<string, unknown> {
      const out = new Map<string, unknown>();
      for (const n of names) {
        const store = state.keyed<unknown>(n);
        for (const k of keys) {
          const v = store.get(k);
          if (v !== undefined) out.set(`${n}/${typeof k}/${String(k)}`, v);
        }
      }
      return out;
    }

    describe('keyed stores', () => {
      it('get / put / delete / size', { timeout }, async () => {
        const store = (await task(0, ALL)).keyed<number>('a');
        expect(store.get('missing')).toBeUndefined();
        expect(store.size()).toBe(0);
        store.put('k', 1);
        store.put(2, 2);
        expect(store.get('k')).toBe(1);
        expect(store.get(2)).toBe(2);
        expect(store.size()).toBe(2);
        store.put('k', 3); // update: same size
        expect(store.get('k')).toBe(3);
        expect(store.size()).toBe(2);
        store.delete('k');
        expect(store.get('k')).toBeUndefined();
        expect(store.size()).toBe(1);
        store.delete('k'); // deleting a missing key is harmless
        store.delete('never');
        expect(store.size()).toBe(1);
        store.put('k', 4); // a deleted key can come back
        expect(store.get('k')).toBe(4);
        expect(store.size()).toBe(2);
        store.put('zero', 0); // falsy values are values
        expect(store.get('zero')).toBe(0);
        expect(store.size()).toBe(3);
      });

      it('keyed(name) twice gives the same state', { timeout }, async () => {
        const state = await task(0, ALL);
        state.keyed<string>('s').put('k', 'v');
        expect(state.keyed<string>('s').get('k')).toBe('v');
        expect(state.keyed<string>('s').size()).toBe(1);
      });

      it('named states are independent', { timeout }, async () => {
        const state = await task(0, ALL);
        const a = state.keyed<number>('a');
        const b = state.keyed<number>('b');
        const c = state.keyed<number>('count/words'); // names with separators do not clash
        a.put('k', 1);
        b.put('k', 2);
        b.put('j', 3);
        expect(a.get('k')).toBe(1);
        expect(b.get('k')).toBe(2);
        expect(a.get('j')).toBeUndefined();
        expect(c.get('k')).toBeUndefined();
        expect([a.size(), b.size(), c.size()]).toEqual([1, 2, 0]);
        b.delete('k');
        expect(a.get('k')).toBe(1);
        expect([a.size(), b.size()]).toEqual([1, 1]);
      });

      it('keys of different types are distinct (1, "1", true, "true", 0, "0", false, "false")', { timeout }, async () => {
        const store = (await task(0, ALL)).keyed<string>('s');
        const keys: StateKey[] = [1, '1', true, 'true', 0, '0', false, 'false', '', -1, 1.5];
        for (const k of keys) store.put(k, `${typeof k}:${String(k)}`);
        expect(store.size()).toBe(keys.length);
        for (const k of keys) expect(store.get(k), `${typeof k} ${String(k)}`).toBe(`${typeof k}:${String(k)}`);
        store.delete(1);
        expect(store.get('1')).toBe('string:1');
        expect(store.get(true)).toBe('boolean:true');
        expect(store.size()).toBe(keys.length - 1);
      });

      it(`holds ${manyKeys} keys and reads every one back`, { timeout }, async () => {
        const store = (await task(0, ALL)).keyed<{ i: number; s: string }>('many');
        for (let i = 0; i < manyKeys; i++) store.put(`key-${i}`, { i, s: `v${i}` });
        for (let i = 0; i < manyKeys; i += 2) store.delete(`key-${i}`);
        expect(store.size()).toBe(Math.floor(manyKeys / 2));
        for (let i = 0; i < manyKeys; i++) {
          const v = store.get(`key-${i}`);
          if (i % 2 === 0) expect(v).toBeUndefined();
          else expect(v).toEqual({ i, s: `v${i}` });
        }
      });
    });

    describe('snapshot and restore', () => {
      it('a snapshot names its operator, checkpoint and key groups, and splits the state by owned key group', { timeout }, async () => {
        const range = suiteKeyGroupRange(0, 1, MAX_P);
        const state = await task(0, range);
        const store = state.keyed<number>('count');
        KEYS.forEach((k, i) => store.put(k, i));
        const snap = await state.snapshot(7);
        expect(typeof snap.backend).toBe('string');
        expect(snap.operatorId).toBe('reduce-1');
        expect(snap.checkpointId).toBe(7);
        expect(snap.keyGroups).toEqual(range);
        const groups = new Set(KEYS.map(kg));
        for (const [g, bytes] of snap.groups) {
          expect(bytes).toBeInstanceOf(Uint8Array);
          if (g !== -1) expect(groups.has(g), `group ${g} holds none of the keys`).toBe(true);
        }
        for (const g of groups) expect(snap.groups.has(g), `group ${g} missing`).toBe(true);
      });

      it('restore into a fresh task gives the same state; the snapshot is a copy', { timeout }, async () => {
        const state = await task(0, ALL);
        const count = state.keyed<number>('count');
        const last = state.keyed<{ at: number[] }>('last');
        KEYS.forEach((k, i) => {
          count.put(k, i);
          last.put(k, { at: [i, i + 1] });
        });
        count.delete('word-3');
        const value = { at: [1] };
        last.put('word-0', value);
        const snap = await state.snapshot(1);
        value.at.push(2); // neither a mutation nor later writes reach the snapshot
        count.put('after', 1);
        count.delete('word-4');

        const restored = await task(0, ALL);
        await restored.restore([snap]);
        const expected = new Map<string, unknown>();
        KEYS.forEach((k, i) => {
          if (k !== 'word-3') expected.set(`count/${typeof k}/${String(k)}`, i);
          expected.set(`last/${typeof k}/${String(k)}`, k === 'word-0' ? { at: [1] } : { at: [i, i + 1] });
        });
        expect(contents(restored, ['count', 'last'], [...KEYS, 'after'])).toEqual(expected);
        expect(restored.keyed('count').size()).toBe(KEYS.length - 1);
        expect(restored.keyed('last').size()).toBe(KEYS.length);
        expect(restored.keyed('other').size()).toBe(0);
      });

      it('an empty state restores to an empty state', { timeout }, async () => {
        const snap = await (await task(0, ALL)).snapshot(1);
        const restored = await task(0, ALL);
        await restored.restore([snap]);
        expect(restored.keyed('s').size()).toBe(0);
        expect(restored.keyed('s').get('k')).toBeUndefined();
      });

      it('a restored task keeps working: writes, deletes and a further snapshot', { timeout }, async () => {
        const first = await task(0, ALL);
        KEYS.forEach((k, i) => first.keyed<number>('s').put(k, i));
        const second = await task(0, ALL);
        await second.restore([await first.snapshot(1)]);
        const s = second.keyed<number>('s');
        s.put('word-1', 100);
        s.delete('word-2');
        s.put('new', 5);
        expect(s.size()).toBe(KEYS.length);
        const third = await task(0, ALL);
        await third.restore([await second.snapshot(2)]);
        const t = third.keyed<number>('s');
        expect(t.get('word-1')).toBe(100);
        expect(t.get('word-2')).toBeUndefined();
        expect(t.get('new')).toBe(5);
        expect(t.get('word-5')).toBe(KEYS.indexOf('word-5'));
        expect(t.size()).toBe(KEYS.length);
      });

      it('successive checkpoints: each restores to the state at its time (updates and deletes included)', { timeout }, async () => {
        const state = await task(0, ALL);
        const store = state.keyed<number>('s');
        const history: StateSnapshot[] = [];
        const expected: Map<StateKey, number>[] = [];
        const model = new Map<StateKey, number>();
        const random = prng(42);
        const keys = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? i : `k${i}`));
        for (let checkpoint = 1; checkpoint <= 4; checkpoint++) {
          for (let n = 0; n < 200; n++) {
            const k = keys[Math.floor(random() * keys.length)];
            if (random() < 0.25) {
              store.delete(k);
              model.delete(k);
            } else {
              const v = Math.floor(random() * 1000);
              store.put(k, v);
              model.set(k, v);
            }
          }
          expect(store.size()).toBe(model.size);
          history.push(await state.snapshot(checkpoint));
          expected.push(new Map(model));
        }
        for (let i = 0; i < history.length; i++) {
          const restored = await task(0, ALL);
          await restored.restore(restoreChain(history[i], history));
          const r = restored.keyed<number>('s');
          const got = new Map<StateKey, number>();
          for (const k of keys) {
            const v = r.get(k);
            if (v !== undefined) got.set(k, v);
          }
          expect(got, `checkpoint ${i + 1}`).toEqual(expected[i]);
          expect(r.size(), `checkpoint ${i + 1}`).toBe(expected[i].size);
        }
      });

      it('snapshot({ full: true }) is self-contained: it restores alone, without a base chain', { timeout }, async () => {
        const state = await task(0, ALL);
        const store = state.keyed<number>('s');
        for (let i = 0; i < 50; i++) store.put(`k${i}`, i);
        await state.snapshot(1);
        await state.notifyCheckpointComplete?.(1);
        for (let i = 25; i < 75; i++) store.put(`k${i}`, i * 10);
        store.delete('k0');
        const full = await state.snapshot(2, { full: true });
        expect(full.incremental ?? false).toBe(false);
        const restored = await task(0, ALL);
        await restored.restore([full]);
        const r = restored.keyed<number>('s');
        expect(r.size()).toBe(74);
        expect(r.get('k0')).toBeUndefined();
        expect(r.get('k10')).toBe(10);
        expect(r.get('k60')).toBe(600);
      });

      it('after notifyCheckpointAborted, the next snapshot does not build on the aborted one', { timeout }, async () => {
        const state = await task(0, ALL);
        const store = state.keyed<number>('s');
        store.put('a', 1);
        const first = await state.snapshot(1);
        await state.notifyCheckpointComplete?.(1);
        store.put('b', 2);
        const aborted = await state.snapshot(2);
        state.notifyCheckpointAborted?.(2);
        store.put('c', 3);
        const third = await state.snapshot(3);
        // A checkpoint store never keeps an aborted snapshot: the chain must not need it.
        if (third.incremental === true) expect(third.baseCheckpointId).not.toBe(2);
        expect(aborted.checkpointId).toBe(2);
        const restored = await task(0, ALL);
        await restored.restore(restoreChain(third, [first]));
        const r = restored.keyed<number>('s');
        expect([r.get('a'), r.get('b'), r.get('c')]).toEqual([1, 2, 3]);
      });

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
    });
  });
}
