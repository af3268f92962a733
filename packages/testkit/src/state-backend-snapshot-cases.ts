// The snapshot and restore cases of describeStateBackend: copies, successive and incremental checkpoints, aborts.
import { type StateKey, type StateSnapshot } from '@mobius/interface';
import { expect, it } from 'vitest';
import { prng } from './helpers.js';
import { restoreChain } from './restore-chain.js';
import { suiteKeyGroupRange } from './suite-key-groups.js';
import { type StateBackendSuiteContext } from './state-backend-suite-context.js';

export function describeSnapshotCases(ctx: StateBackendSuiteContext): void {
  const { task, kg, KEYS, contents, timeout, ALL, MAX_P } = ctx;
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
}
