import { TaskFailedError, type Collector } from '@mobius/interface';
import {
  CountTrigger,
  EventTimeSessionWindows,
  GlobalWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  ProcessingTimeSessionWindows,
  type ProcessWindowContext,
  type Window,
} from '@mobius/windowing';
import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '@mobius/windowing';
import { WindowHarness, lateTag, spec, type HarnessOptions } from './test-window-harness.js';
import { stateKeyGroupOf } from '../state/operator-state.js';

const sum = { kind: 'reduce' as const, reduce: (a: unknown, b: unknown) => (a as number) + (b as number) };
const list = { kind: 'list' as const };
const countAgg = {
  kind: 'aggregate' as const,
  aggregate: { createAccumulator: () => 0, add: (_v: unknown, acc: unknown) => (acc as number) + 1, getResult: (acc: unknown) => acc, merge: (a: unknown, b: unknown) => (a as number) + (b as number) },
};
/** Emits `[key, start, end, ...values]` so a test sees which window fired. */
const describeWindow = (key: unknown, w: Window, inputs: Iterable<unknown>, out: Collector<unknown>): void => {
  const tw = w as TimeWindow;
  out.collect([key, tw.start, tw.end, ...inputs]);
};

describe.each(['heap', 'state'] as const)('window operator (timers: %s)', (timers) => {
  const harness = (s: WindowSpec, options: HarnessOptions = {}): WindowHarness => new WindowHarness(s, { timers, ...options });

  it('tumbling event-time sums per key fire when the watermark reaches end - 1, with timestamp end - 1', () => {
    const h = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum, windowFunction: describeWindow }));
    const events: [string, number, number][] = [
      ['a', 1, 3],
      ['b', 5, 9],
      ['a', 2, 12],
      ['a', 4, 0],
      ['b', 7, 10],
      ['a', 8, -1],
      ['a', 16, -10],
    ];
    for (const [k, v, t] of events) h.add(k, v, t);
    h.watermark(-2);
    expect(h.out).toEqual([]);
    h.watermark(9);
    // Reference: floor division gives the window start, negative times included.
    const expected = new Map<string, number>();
    for (const [k, v, t] of events) {
      const start = Math.floor(t / 10) * 10;
      if (start + 9 > 9) continue;
      const id = `${k}|${start}`;
      expected.set(id, (expected.get(id) ?? 0) + v);
    }
    const fired = h.out.map((e) => e.value as [string, number, number, number]);
    expect(new Map(fired.map(([k, s, , v]) => [`${k}|${s}`, v]))).toEqual(expected);
    for (const e of h.out) expect(e.timestamp).toBe((e.value as number[])[2] - 1);
    h.watermark(Infinity);
    expect(h.out.map((e) => e.value)).toContainEqual(['a', 10, 20, 2]);
    expect(h.out.map((e) => e.value)).toContainEqual(['b', 10, 20, 7]);
  });

  it('a record whose windows are all late is dropped and counted, or sent to the late side output with its timestamp', () => {
    const dropped = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum }));
    dropped.add('a', 1, 5);
    dropped.watermark(9);
    dropped.add('a', 2, 9); // window [0, 10) ended: end - 1 = 9 <= watermark 9
    dropped.add('a', 4, 10);
    dropped.watermark(Infinity);
    expect(dropped.values()).toEqual([1, 4]);
    expect(dropped.op.lateRecordsDropped).toBe(1);

    const side = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum, lateDataTag: lateTag.id }));
    side.add('a', 1, 5);
    side.watermark(20);
    side.add('a', 2, 3);
    expect(side.late).toEqual([{ value: 2, timestamp: 3 }]);
    expect(side.op.lateRecordsDropped).toBe(0);
  });

  it('with allowed lateness a late record re-fires its window, and the state goes at end - 1 + lateness', () => {
    const h = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum, allowedLateness: 5, lateDataTag: lateTag.id }));
    h.add('a', 1, 2);
    h.add('a', 2, 7);
    h.watermark(9);
    expect(h.values()).toEqual([3]);
    h.add('a', 10, 4); // late but allowed: fires again with the updated sum
    expect(h.values()).toEqual([3, 13]);
    h.watermark(13);
    h.add('a', 100, 1);
    expect(h.values()).toEqual([3, 13, 113]);
    h.watermark(14); // cleanup time 9 + 5
    expect(h.op['contents'].windowCount()).toBe(0);
    h.add('a', 1000, 3); // now beyond the lateness
    expect(h.values()).toEqual([3, 13, 113]);
    expect(h.late.map((e) => e.value)).toEqual([1000]);
  });

  it('aggregate keeps one accumulator per key and window, never the records', () => {
    const h = harness(spec({ assigner: TumblingEventTimeWindows.of(1000), contents: countAgg }));
    const n = 50_000;
    for (let i = 0; i < n; i++) h.add(i % 3, i, i % 1000);
    const store = h.state.keyed<[number, number, unknown][]>('window-contents');
    expect(store.size()).toBe(3);
    for (const k of [0, 1, 2]) {
      const slots = store.get(k)!;
      expect(slots).toHaveLength(1);
      expect(typeof slots[0][2]).toBe('number');
    }
    h.watermark(999);
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[i % 3]++;
    expect(h.values().sort()).toEqual(counts.sort());
    expect(store.size()).toBe(0);
  });

  it('sliding windows: each record counts in size / slide windows', () => {
    const h = harness(spec({ assigner: SlidingEventTimeWindows.of(10, 5), contents: list, windowFunction: describeWindow }));
    h.add('k', 'x', 7);
    h.add('k', 'y', 12);
    h.watermark(Infinity);
    expect(h.values()).toEqual([
      ['k', 0, 10, 'x'],
      ['k', 5, 15, 'x', 'y'],
      ['k', 10, 20, 'y'],
    ]);
  });

  it('sessions merge windows that touch or overlap; a record bridging two sessions merges them and their counts', () => {
    const h = harness(spec({ assigner: EventTimeSessionWindows.withGap(10), contents: countAgg, windowFunction: describeWindow }));
    h.add('a', 'x', 0); // [0, 10)
    h.add('a', 'x', 25); // [25, 35)
    h.add('a', 'x', 5); // [5, 15) → [0, 15)
    h.add('b', 'x', 3);
    expect(h.state.keyed<unknown[]>('window-sessions').get('a')).toHaveLength(2);
    h.add('a', 'x', 15); // [15, 25) touches [0, 15) and [25, 35): one session [0, 35)
    expect(h.state.keyed<unknown[]>('window-sessions').get('a')).toHaveLength(1);
    h.watermark(20);
    expect(h.values()).toEqual([['b', 3, 13, 1]]);
    h.watermark(Infinity);
    expect(h.values()).toEqual([
      ['b', 3, 13, 1],
      ['a', 0, 35, 4],
    ]);
    expect(h.state.keyed('window-sessions').size()).toBe(0);
    expect(h.state.keyed('window-timers').size()).toBe(0);
  });

  it('count windows on GlobalWindows with a purging count trigger fire every n records per key', () => {
    const h = harness(spec({ assigner: GlobalWindows.create(), trigger: PurgingTrigger.of(CountTrigger.of(3)), contents: sum }));
    for (let i = 1; i <= 8; i++) h.add(i % 2 === 0 ? 'even' : 'odd', i);
    // odd: 1, 3, 5 → 9 (7 waits); even: 2, 4, 6 → 12 (8 waits)
    expect(h.values()).toEqual([9, 12]);
    h.watermark(Infinity); // an incomplete count window does not fire
    expect(h.values()).toEqual([9, 12]);
  });

  it('a count trigger without purge fires with everything so far', () => {
    const h = harness(spec({ assigner: GlobalWindows.create(), trigger: CountTrigger.of(2), contents: sum }));
    for (let i = 1; i <= 4; i++) h.add('k', i);
    expect(h.values()).toEqual([3, 10]);
  });

  it('processing-time windows assign by the clock and fire on processing-time timers', () => {
    const h = harness(spec({ assigner: TumblingProcessingTimeWindows.of(100), contents: sum, windowFunction: describeWindow }));
    h.now = 120;
    h.add('k', 1);
    h.now = 199;
    h.add('k', 2);
    h.advanceClock(198);
    expect(h.values()).toEqual([]);
    h.now = 205;
    h.add('k', 4);
    h.advanceClock(205);
    expect(h.values()).toEqual([['k', 100, 200, 3]]);
    h.advanceClock(Infinity);
    expect(h.values()).toEqual([
      ['k', 100, 200, 3],
      ['k', 200, 300, 4],
    ]);
  });

  it('a process window function sees its window, the watermark and can emit to a side output', () => {
    const seen: [number, number][] = [];
    const fn = {
      process(key: unknown, ctx: ProcessWindowContext<Window>, elements: Iterable<unknown>, out: Collector<unknown>) {
        const w = ctx.window as TimeWindow;
        seen.push([w.start, ctx.currentWatermark()]);
        const all = [...elements];
        out.collect(`${String(key)}:${all.length}`);
        ctx.output(lateTag, all);
      },
    };
    const h = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: list, windowFunction: fn, lateDataTag: lateTag.id }));
    h.add('k', 1, 1);
    h.add('k', 2, 2);
    h.watermark(50);
    expect(h.values()).toEqual(['k:2']);
    expect(seen).toEqual([[0, 50]]);
    expect(h.late.map((e) => e.value)).toEqual([[1, 2]]);
  });

  it('an event-time window fails the task with PLAN_NO_TIMESTAMPS on a record without timestamp', () => {
    const h = harness(spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum }));
    let error: unknown;
    try {
      h.add('k', 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaskFailedError);
    const cause = (error as TaskFailedError).cause as { code: string; message: string };
    expect(cause.code).toBe('PLAN_NO_TIMESTAMPS');
    expect(cause.message).toMatch(/window-1.*assignTimestampsAndWatermarks/);
  });

  it('contents, timers and session sets survive a snapshot and restore: the restored operator fires the same', async () => {
    const make = () => spec({ assigner: EventTimeSessionWindows.withGap(10), contents: sum, windowFunction: describeWindow });
    const run = (h: WindowHarness, from: number, to: number) => {
      for (let i = from; i < to; i++) h.add(`k${i % 4}`, i, i * 3);
    };
    const straight = harness(make());
    run(straight, 0, 40);
    straight.watermark(60);
    run(straight, 40, 60);
    straight.watermark(Infinity);

    const first = harness(make());
    run(first, 0, 40);
    const snap = await first.snapshot();
    const second = await harness(make(), { restore: snap }).ready();
    second.watermark(60);
    run(second, 40, 60);
    second.watermark(Infinity);
    expect(second.values()).toEqual(straight.values());
    expect(straight.values().length).toBeGreaterThan(0);
  });

  it('rescaling: restored into two tasks that each own half the key groups, each fires only its keys, and together what one task fired', async () => {
    const make = () => spec({ assigner: TumblingEventTimeWindows.of(10), contents: sum, allowedLateness: 5, windowFunction: describeWindow });
    const feed = (h: WindowHarness, keys: string[]) => {
      for (let i = 0; i < 200; i++) if (keys.includes(`k${i % 9}`)) h.add(`k${i % 9}`, i, i % 37);
    };
    const all = Array.from({ length: 9 }, (_, i) => `k${i}`);
    const one = harness(make());
    feed(one, all);
    one.watermark(12);
    const snap = await one.snapshot();
    one.watermark(Infinity);

    const halves = [
      { start: 0, end: 63 },
      { start: 64, end: 127 },
    ];
    const groupOf = stateKeyGroupOf(128);
    const fired: unknown[] = [];
    for (const keyGroups of halves) {
      const h = await harness(make(), { restore: snap, keyGroups }).ready();
      const own = all.filter((k) => groupOf(k) >= keyGroups.start && groupOf(k) <= keyGroups.end);
      h.watermark(Infinity);
      for (const v of h.values()) expect(own).toContain((v as unknown[])[0]);
      fired.push(...h.values());
    }
    const afterSnapshot = one.values().filter((v) => (v as number[])[1] >= 10);
    expect(afterSnapshot.length).toBeGreaterThan(0);
    const order = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(order(fired)).toEqual(order(afterSnapshot));
  });

  it('processing-time sessions merge by the clock and fire when it passes the session end', () => {
    const h = harness(spec({ assigner: ProcessingTimeSessionWindows.withGap(10), contents: countAgg, windowFunction: describeWindow }));
    h.now = 0;
    h.add('k', 'x');
    h.now = 8;
    h.add('k', 'x'); // [8, 18) overlaps [0, 10): [0, 18)
    h.advanceClock(12);
    expect(h.values()).toEqual([]);
    h.advanceClock(17);
    expect(h.values()).toEqual([['k', 0, 18, 2]]);
    h.now = 30;
    h.add('k', 'x');
    h.advanceClock(Infinity);
    expect(h.values()).toEqual([
      ['k', 0, 18, 2],
      ['k', 30, 40, 1],
    ]);
  });

  it('sliding count windows keep the last n records and fold them when the count trigger fires', () => {
    const keepLast = { kind: 'list' as const, keepLast: 4, fold: sum };
    const h = harness(spec({ assigner: GlobalWindows.create(), trigger: CountTrigger.of(2), contents: keepLast }));
    const values = Array.from({ length: 9 }, (_, i) => i + 1);
    for (const v of values) h.add('k', v);
    // Reference: after every 2nd record, the sum of the last (up to) 4 records.
    const expected: number[] = [];
    for (let i = 2; i <= values.length; i += 2) expected.push(values.slice(Math.max(0, i - 4), i).reduce((a, b) => a + b, 0));
    expect(h.values()).toEqual(expected);
    expect(h.state.keyed<[number, number, unknown[]][]>('window-contents').get('k')![0][2]).toHaveLength(4);
  });
});
