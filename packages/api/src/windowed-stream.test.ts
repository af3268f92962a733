import { OutputTag, type SourceFunction } from '@mobius/interface';
import { CountTrigger, EventTimeSessionWindows, GlobalWindows, PurgingTrigger, SlidingEventTimeWindows, TumblingEventTimeWindows, TumblingProcessingTimeWindows, type WindowSpec } from '@mobius/windowing';
import { describe, expect, it } from 'vitest';
import { StreamingContext } from './streaming-context.js';
import { expectPlanError as planError } from '@mobius/testkit';
import { WatermarkStrategy } from './watermark-strategy.js';

const ctx = (): StreamingContext => StreamingContext.builder().build();
type Ev = { k: string; t: number; v: number };
const stamped = (c: StreamingContext) => c.fromValues<Ev>({ k: 'a', t: 1, v: 1 }).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.t));
const plus = (a: Ev, b: Ev): Ev => ({ ...a, v: a.v + b.v });
const count = { createAccumulator: () => 0, add: (_: Ev, n: number) => n + 1, getResult: (n: number) => n };


describe('keyed.window(...)', () => {
  it('adds one window node, keyed by the stream key, whose spec carries assigner, trigger, lateness and late tag', () => {
    const c = ctx();
    const late = new OutputTag<Ev>('late');
    const trigger = CountTrigger.of(5);
    const result = stamped(c).keyBy((e) => e.k).window(TumblingEventTimeWindows.of(10)).allowedLateness(5).sideOutputLateData(late).trigger(trigger).reduce(plus);
    result.getSideOutput(late).sink(() => {});
    const g = c.graph();
    const node = g.nodes.find((n) => n.kind === 'window')!;
    const spec = node.fn as WindowSpec;
    expect(spec.allowedLateness).toBe(5);
    expect(spec.lateDataTag).toBe('late');
    expect(spec.trigger).toBe(trigger);
    expect(spec.contents.kind).toBe('reduce');
    const input = g.edges.find((e) => e.target === node.id)!;
    expect(input.partition.kind).toBe('key');
    expect(g.edges.some((e) => e.source === node.id && e.sideOutput === 'late')).toBe(true);
  });

  it('PLAN_NO_TIMESTAMPS at the call when an event-time window reads a built-in source without assignTimestampsAndWatermarks', () => {
    const c = ctx();
    const e = planError(() => c.fromValues<Ev>({ k: 'a', t: 1, v: 1 }).map((x) => x).keyBy((x) => x.k).window(TumblingEventTimeWindows.of(10)));
    expect(e.code).toBe('PLAN_NO_TIMESTAMPS');
    expect(e.message).toMatch(/map-2.*source "fromValues" \(source-1\).*assignTimestampsAndWatermarks/);
    // Processing time and count windows need no timestamps; a custom source may emit them.
    expect(() => c.fromValues<Ev>().keyBy((x) => x.k).window(TumblingProcessingTimeWindows.of(10))).not.toThrow();
    expect(() => c.fromValues<Ev>().keyBy((x) => x.k).countWindow(3)).not.toThrow();
    const custom: SourceFunction<Ev> = { run: async () => {} };
    expect(() => c.source(custom).keyBy((x) => x.k).window(TumblingEventTimeWindows.of(10))).not.toThrow();
    // A union where one side has no timestamps is refused too.
    expect(planError(() => stamped(c).union(c.fromValues<Ev>()).windowAll(TumblingEventTimeWindows.of(10))).code).toBe('PLAN_NO_TIMESTAMPS');
  });

  it('refuses an aggregate without merge on session windows, naming the problem', () => {
    const c = ctx();
    const e = planError(() => stamped(c).keyBy((x) => x.k).window(EventTimeSessionWindows.withGap(10)).aggregate(count));
    expect(e.code).toBe('PLAN_INVALID_WINDOW');
    expect(e.message).toMatch(/needs an AggregateFunction with merge/);
    expect(() => stamped(c).keyBy((x) => x.k).window(SlidingEventTimeWindows.of(10, 5)).aggregate(count)).not.toThrow();
    expect(() => stamped(c).keyBy((x) => x.k).window(EventTimeSessionWindows.withGap(10)).aggregate({ ...count, merge: (a: number, b: number) => a + b })).not.toThrow();
  });

  it('refuses bad functions, lateness and triggers with clear errors', () => {
    const c = ctx();
    const w = () => stamped(c).keyBy((x) => x.k).window(TumblingEventTimeWindows.of(10));
    expect(planError(() => w().reduce(null as never)).message).toMatch(/reduce\(\) takes a function/);
    expect(planError(() => w().aggregate({} as never)).message).toMatch(/createAccumulator/);
    expect(planError(() => w().process({} as never)).message).toMatch(/ProcessWindowFunction/);
    expect(planError(() => w().reduce(plus, 42 as never)).message).toMatch(/window function/);
    expect(planError(() => w().allowedLateness(-1)).code).toBe('PLAN_INVALID_WINDOW');
    expect(planError(() => w().trigger({} as never)).code).toBe('PLAN_INVALID_WINDOW');
    expect(planError(() => stamped(c).keyBy((x) => x.k).window({} as never)).code).toBe('PLAN_INVALID_WINDOW');
  });

  it('countWindow(n) is GlobalWindows with a purging count trigger; windowAll runs at parallelism 1', () => {
    const c = ctx();
    c.fromValues<Ev>().keyBy((x) => x.k).countWindow(3).reduce(plus);
    stamped(c).windowAll(TumblingEventTimeWindows.of(10)).reduce(plus);
    const [countNode, allNode] = c.graph().nodes.filter((n) => n.kind === 'window');
    const countSpec = countNode.fn as WindowSpec;
    expect(countSpec.assigner).toBe(GlobalWindows.create());
    expect(countSpec.trigger).toBeInstanceOf(PurgingTrigger);
    expect(countSpec.trigger!.toString()).toBe('PurgingTrigger(CountTrigger(3))');
    expect(allNode.parallelism).toBe(1);
    c.fromValues<Ev>().keyBy((x) => x.k).countWindow(5, 2).reduce(plus);
    const sliding = c.graph().nodes.filter((n) => n.kind === 'window')[2].fn as WindowSpec;
    expect(sliding.contents).toEqual({ kind: 'list', keepLast: 5, fold: { kind: 'reduce', reduce: plus } });
    expect(sliding.trigger!.toString()).toBe('CountTrigger(2)');
    expect(planError(() => c.fromValues<Ev>().keyBy((x) => x.k).countWindow(2, 3)).message).toMatch(/0 < slide <= n/);
    expect(allNode.name).toBe('windowAll reduce');
  });

  it('a window join tags both inputs, unites and keys them, and windows the union', () => {
    const c = ctx();
    const a = stamped(c);
    const b = stamped(c);
    a.join(b).where((x) => x.k).equalTo((y) => y.k).window(TumblingEventTimeWindows.of(10)).apply((x, y) => x.v + y.v);
    const kinds = c.graph().nodes.map((n) => n.kind);
    expect(kinds.filter((k) => k === 'union')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'window')).toHaveLength(1);
    expect(planError(() => a.join(b).where(1 as never)).message).toMatch(/where\(\) takes a key selector/);
  });
});
