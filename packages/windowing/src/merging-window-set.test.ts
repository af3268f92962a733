import { describe, expect, it } from 'vitest';
import { MergingWindowSet } from './merging-window-set.js';
import { EventTimeSessionWindows } from './session-windows.js';
import { TimeWindow } from './time-window.js';

const gap10 = EventTimeSessionWindows.withGap(10);
type Merge = [number[], number[][], number[], number[][]];
const b = (w: TimeWindow) => [w.start, w.end];

function add(set: MergingWindowSet, t: number, merges: Merge[]): TimeWindow {
  return set.addWindow(new TimeWindow(t, t + 10), (result, merged, stateResult, mergedState) => merges.push([b(result), merged.map(b), b(stateResult), mergedState.map(b)]));
}

describe('MergingWindowSet', () => {
  it('keeps separate sessions apart, grows one, and merges two a record bridges, keeping one state window', () => {
    const set = new MergingWindowSet(gap10, undefined);
    const merges: Merge[] = [];
    expect(b(add(set, 0, merges))).toEqual([0, 10]);
    expect(b(add(set, 30, merges))).toEqual([30, 40]);
    expect(merges).toEqual([]);
    expect(b(add(set, 5, merges))).toEqual([0, 15]);
    // [5, 15) merged with [0, 10): contents stay under [0, 10)'s state window; nothing to move.
    expect(merges).toEqual([[[0, 15], [[0, 10]], [0, 10], []]]);
    expect(b(set.getStateWindow(new TimeWindow(0, 15))!)).toEqual([0, 10]);
    merges.length = 0;
    expect(b(add(set, 20, merges))).toEqual([20, 40]); // [20, 30) touches [30, 40)
    expect(merges).toEqual([[[20, 40], [[30, 40]], [30, 40], []]]);
    merges.length = 0;
    // [15, 25) touches [0, 15) and overlaps [20, 40): one session; [30, 40)'s contents move to [0, 10).
    expect(b(add(set, 15, merges))).toEqual([0, 40]);
    expect(merges).toEqual([
      [
        [0, 40],
        [
          [0, 15],
          [20, 40],
        ],
        [0, 10],
        [[30, 40]],
      ],
    ]);
    expect(set.size).toBe(1);
    const restored = new MergingWindowSet(gap10, set.toState());
    expect(b(restored.getStateWindow(new TimeWindow(0, 40))!)).toEqual([0, 10]);
    expect(restored.getStateWindow(new TimeWindow(0, 15))).toBeUndefined();
    restored.retireWindow(new TimeWindow(0, 40));
    expect(restored.size).toBe(0);
  });

  it('a window equal to one in the set joins it (two records at the same time)', () => {
    const set = new MergingWindowSet(EventTimeSessionWindows.withGap(10), undefined);
    const merges: Merge[] = [];
    add(set, 0, merges);
    expect(b(add(set, 0, merges))).toEqual([0, 10]);
    expect(merges).toEqual([]);
    expect(set.size).toBe(1);
    expect(b(set.getStateWindow(new TimeWindow(0, 10))!)).toEqual([0, 10]);
  });

  it('a window inside an existing one changes nothing', () => {
    const set = new MergingWindowSet(EventTimeSessionWindows.withGap(10), undefined);
    const merges: Merge[] = [];
    add(set, 0, merges);
    expect(b(set.addWindow(new TimeWindow(2, 8), () => merges.push([[], [], [], []])))).toEqual([0, 10]);
    expect(merges).toEqual([]);
    expect(set.size).toBe(1);
  });
});
