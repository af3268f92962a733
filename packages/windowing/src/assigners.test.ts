import { expectPlanError } from '@mobius/testkit';
import { describe, expect, it } from 'vitest';
import { EventTimeSessionWindows, ProcessingTimeSessionWindows } from './session-windows.js';
import { SlidingEventTimeWindows, SlidingProcessingTimeWindows } from './sliding-windows.js';
import { GlobalWindows } from './global-windows.js';
import { GlobalWindow, TimeWindow, getWindowStartWithOffset } from './time-window.js';
import { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from './tumbling-windows.js';

const clock = (now: number) => ({ currentProcessingTime: () => now });
const bounds = (ws: TimeWindow[]) => ws.map((w) => [w.start, w.end]);
/** Reference: the window start by floor division (independent of the remainder arithmetic). */
const floorStart = (t: number, offset: number, size: number) => Math.floor((t - offset) / size) * size + offset;

describe('window start arithmetic', () => {
  it('matches floor division for positive and negative timestamps and offsets', () => {
    for (const size of [1, 7, 10, 1000]) {
      for (const offset of [0, 3 % size, -(3 % size)]) {
        for (let t = -2500; t <= 2500; t += 29) expect(getWindowStartWithOffset(t, offset, size)).toBe(floorStart(t, offset, size));
      }
    }
  });
  it("is Flink's: -1 is in [-10, 0), -10 in [-10, 0), 0 in [0, 10)", () => {
    expect(getWindowStartWithOffset(-1, 0, 10)).toBe(-10);
    expect(getWindowStartWithOffset(-10, 0, 10)).toBe(-10);
    expect(getWindowStartWithOffset(0, 0, 10)).toBe(0);
    expect(getWindowStartWithOffset(-11, 0, 10)).toBe(-20);
  });
});

describe('TimeWindow', () => {
  it('is end-exclusive: maxTimestamp is end - 1; touching windows intersect and cover', () => {
    const w = new TimeWindow(0, 10);
    expect(w.maxTimestamp()).toBe(9);
    expect(w.intersects(new TimeWindow(10, 20))).toBe(true);
    expect(w.intersects(new TimeWindow(11, 20))).toBe(false);
    expect(w.cover(new TimeWindow(10, 20)).toString()).toBe('TimeWindow{start=0, end=20}');
  });
});

describe('tumbling windows', () => {
  it('assign one window by event time, with an offset and negative times', () => {
    const a = TumblingEventTimeWindows.of(10, 3);
    expect(bounds(a.assignWindows(null, 2, clock(0)))).toEqual([[-7, 3]]);
    expect(bounds(a.assignWindows(null, 3, clock(0)))).toEqual([[3, 13]]);
    expect(bounds(a.assignWindows(null, -8, clock(0)))).toEqual([[-17, -7]]);
    expect(a.isEventTime).toBe(true);
  });
  it('processing-time variant assigns by the clock', () => {
    const a = TumblingProcessingTimeWindows.of(100);
    expect(bounds(a.assignWindows(null, NaN, clock(250)))).toEqual([[200, 300]]);
    expect(a.isEventTime).toBe(false);
  });
  it('refuse a size <= 0 and an offset outside the size', () => {
    expect(expectPlanError(() => TumblingEventTimeWindows.of(0)).code).toBe('PLAN_INVALID_WINDOW');
    expect(expectPlanError(() => TumblingEventTimeWindows.of(-5)).message).toMatch(/size must be a positive/);
    expect(expectPlanError(() => TumblingEventTimeWindows.of(10, 10)).message).toMatch(/offset/);
    expect(expectPlanError(() => TumblingProcessingTimeWindows.of(10, -12)).message).toMatch(/offset/);
  });
});

describe('sliding windows', () => {
  it('assign size / slide windows, each holding the timestamp (reference: enumerate candidate starts)', () => {
    for (const [size, slide, offset] of [
      [10, 5, 0],
      [10, 3, 1],
      [6, 6, 0],
      [15, 4, -2],
    ]) {
      const a = SlidingEventTimeWindows.of(size, slide, offset);
      for (let t = -40; t <= 40; t++) {
        const expected: number[][] = [];
        for (let s = floorStart(t, offset, slide); s > t - size; s -= slide) expected.push([s, s + size]);
        const got = bounds(a.assignWindows(null, t, clock(0)));
        expect(got).toEqual(expected);
        for (const [s, e] of got) expect(s <= t && t < e).toBe(true);
      }
    }
  });
  it('processing-time variant assigns by the clock', () => {
    expect(bounds(SlidingProcessingTimeWindows.of(10, 5).assignWindows(null, NaN, clock(12)))).toEqual([
      [10, 20],
      [5, 15],
    ]);
  });
  it('refuse a slide larger than the size, a slide <= 0, an offset outside the slide', () => {
    expect(expectPlanError(() => SlidingEventTimeWindows.of(10, 11)).message).toMatch(/slide \(11 ms\) is larger than the size \(10 ms\)/);
    expect(expectPlanError(() => SlidingEventTimeWindows.of(10, 0)).code).toBe('PLAN_INVALID_WINDOW');
    expect(expectPlanError(() => SlidingEventTimeWindows.of(10, 5, 5)).message).toMatch(/offset/);
  });
});

describe('session windows', () => {
  it('open [t, t + gap) and report groups of touching or overlapping windows', () => {
    const a = EventTimeSessionWindows.withGap(10);
    expect(bounds(a.assignWindows(null, 5, clock(0)))).toEqual([[5, 15]]);
    const merges: [number[][], number[]][] = [];
    a.mergeWindows([new TimeWindow(20, 30), new TimeWindow(0, 10), new TimeWindow(10, 20), new TimeWindow(31, 41), new TimeWindow(50, 60), new TimeWindow(55, 65)], (group, result) =>
      merges.push([bounds([...group]), [result.start, result.end]]),
    );
    expect(merges).toEqual([
      [
        [
          [0, 10],
          [10, 20],
          [20, 30],
        ],
        [0, 30],
      ],
      [
        [
          [50, 60],
          [55, 65],
        ],
        [50, 65],
      ],
    ]);
  });
  it('processing-time sessions open at the clock; a gap <= 0 is refused', () => {
    expect(bounds(ProcessingTimeSessionWindows.withGap(5).assignWindows(null, NaN, clock(7)))).toEqual([[7, 12]]);
    expect(expectPlanError(() => EventTimeSessionWindows.withGap(0)).code).toBe('PLAN_INVALID_WINDOW');
    expect(expectPlanError(() => ProcessingTimeSessionWindows.withGap(-1)).message).toMatch(/gap/);
  });
});

describe('global windows', () => {
  it('put every record in the one GlobalWindow, which never fires by itself', () => {
    const a = GlobalWindows.create();
    expect(a.assignWindows()).toEqual([GlobalWindow.INSTANCE]);
    expect(a.defaultTrigger().onElement(1, 0, GlobalWindow.INSTANCE, null as never)).toBe('CONTINUE');
  });
});
