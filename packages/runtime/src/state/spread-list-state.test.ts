import { listState } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { OPERATOR_STATE_NAME_PREFIX, operatorStateKey } from './operator-state.js';
import { access, backend } from './test-state-access.js';

const halves = [
  { start: 0, end: 63 },
  { start: 64, end: 127 },
] as const;

describe('operator list state (getOperatorState) spread over the task\'s key groups', () => {
  it('keeps the list\'s order through add, addAll, update, clear and a restore at the same parallelism', async () => {
    const state = backend();
    const list = access(state, undefined).getOperatorState(listState<number>('o'));
    const expected = Array.from({ length: 300 }, (_, i) => i * 7);
    list.add(expected[0]);
    list.addAll(expected.slice(1));
    expect(list.get()).toEqual(expected);
    const restored = backend();
    await restored.restore([await state.snapshot(1)]);
    expect(access(restored, undefined).getOperatorState(listState<number>('o')).get()).toEqual(expected);
    list.update([3, 2, 1]);
    expect(list.get()).toEqual([3, 2, 1]);
    list.clear();
    expect(list.get()).toEqual([]);
    expect(state.keyed(`${OPERATOR_STATE_NAME_PREFIX}o`).size()).toBe(0);
  });

  it('a rescale 1 → 2 splits one task\'s list between the new tasks as evenly as its key groups, every element once', async () => {
    const old = backend();
    const elements = Array.from({ length: 1000 }, (_, i) => `e${i}`);
    access(old, undefined).getOperatorState(listState<string>('o')).addAll(elements);
    const snap = await old.snapshot(1);
    const got = await Promise.all(
      halves.map(async (range, i) => {
        const task = backend(range, i);
        await task.restore([snap]);
        return [...access(task, undefined, range).getOperatorState(listState<string>('o')).get()];
      }),
    );
    // As evenly as the key groups: an element per key group and round, 1000 = 7 rounds of 128 + 104.
    const perGroup = (g: number): number => Math.floor(1000 / 128) + (g < 1000 % 128 ? 1 : 0);
    const share = (r: { start: number; end: number }): number => Array.from({ length: r.end - r.start + 1 }, (_, k) => perGroup(r.start + k)).reduce((x, y) => x + y, 0);
    expect(got.map((g) => g.length)).toEqual(halves.map(share));
    for (const g of got) expect(Math.abs(g.length - 500)).toBeLessThanOrEqual(64);
    expect([...got[0], ...got[1]].sort()).toEqual([...elements].sort());
  });

  it('a rescale 2 → 1 merges the old tasks\' lists, every element once', async () => {
    const snaps = await Promise.all(
      halves.map(async (range, i) => {
        const task = backend(range, i);
        access(task, undefined, range).getOperatorState(listState<string>('o')).addAll(Array.from({ length: 70 + i }, (_, j) => `t${i}-${j}`));
        return task.snapshot(1);
      }),
    );
    const merged = backend();
    await merged.restore(snaps);
    const list = access(merged, undefined).getOperatorState(listState<string>('o')).get();
    expect(list).toHaveLength(141);
    expect(new Set(list).size).toBe(141);
  });

  it('reads a list kept whole at the task\'s first key group (snapshots before the spread) and spreads it', () => {
    const state = backend();
    state.keyed<string[]>(`${OPERATOR_STATE_NAME_PREFIX}o`).put(operatorStateKey(0), ['a', 'b', 'c']);
    const list = access(state, undefined).getOperatorState(listState<string>('o'));
    expect(list.get()).toEqual(['a', 'b', 'c']);
    expect(state.keyed<string[]>(`${OPERATOR_STATE_NAME_PREFIX}o`).get(operatorStateKey(2))).toEqual(['c']);
  });
});
