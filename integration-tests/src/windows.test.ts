// Windows, window joins and keyed aggregations end to end in embedded mode: each result is
// compared with a plain reference computed here (group by key and window in a few lines).
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows,
  OutputTag,
  SlidingEventTimeWindows,
  StreamingContext,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type SourceContext,
  type TimeWindow,
} from 'mobius';
import { tempDir } from './helpers.js';
import { drain, events, floorStart, sessionSums, sliding, sorted, tumbling, windowSums, type Ev } from './window-helpers.js';

const withTime = (c: StreamingContext, evs: Ev[], bound: number) =>
  c.fromCollection(evs).assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.t));

const sumAndCount = {
  createAccumulator: (): [number, number] => [0, 0],
  add: (e: Ev, acc: [number, number]): [number, number] => [acc[0] + e.v, acc[1] + 1],
  getResult: (acc: [number, number]) => acc,
  merge: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
};
const asRow = (key: string, w: TimeWindow, inputs: Iterable<[number, number]>, out: Collector<[string, number, number, number, number]>) => {
  for (const [sum, count] of inputs) out.collect([key, w.start, w.end, sum, count]);
};

describe('windows through the mobius API (embedded)', () => {
  const evs = events(3000, 7, 42, 40);

  for (const parallelism of [1, 2]) {
    it(`tumbling event-time windows: reduce and aggregate equal the reference (parallelism ${parallelism})`, async () => {
      const c = StreamingContext.builder().build();
      const keyed = withTime(c, evs, 50).keyBy((e) => e.k);
      const got = await keyed
        .window(TumblingEventTimeWindows.of(100))
        .aggregate(sumAndCount, asRow)
        .setParallelism(parallelism)
        .executeAndCollect(`tumbling-${parallelism}`);
      expect(sorted(got)).toEqual(windowSums(evs, tumbling(100)));
    });

    it(`sliding windows with a window function and session windows with a process function (parallelism ${parallelism})`, async () => {
      const c = StreamingContext.builder().build();
      const slidingRows = withTime(c, evs, 50)
        .keyBy((e) => e.k)
        .window(SlidingEventTimeWindows.of(100, 40))
        .reduce((a, b) => ({ ...a, v: a.v + b.v }), (key: string, w: TimeWindow, inputs: Iterable<Ev>, out: Collector<[string, number, number, number]>) => {
          for (const e of inputs) out.collect([key, w.start, w.end, e.v]);
        })
        .setParallelism(parallelism)
        .collectAsync();
      const sparse = evs.filter((_, i) => i % 10 === 0).map((e, i) => ({ ...e, t: e.t + (i % 4 === 0 ? 500 : 0) }));
      const sessions = withTime(c, sparse, 600)
        .keyBy((e) => e.k)
        .window(EventTimeSessionWindows.withGap(120))
        .process({
          process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Ev>, out: Collector<[string, number, number, number]>) {
            let n = 0;
            for (const _ of elements) n++;
            out.collect([key, ctx.window.start, ctx.window.end, n]);
          },
        })
        .setParallelism(parallelism)
        .collectAsync();
      const job = await c.submit(`sliding-sessions-${parallelism}`);
      const [a, b] = await Promise.all([drain(slidingRows), drain(sessions)]);
      await job.result();
      const slidingRef = windowSums(evs, sliding(100, 40)).map(([k, s, e, sum]) => [k, s, e, sum]);
      expect(sorted(a)).toEqual(sorted(slidingRef));
      const sessionRef = sessionSums(sparse, 120).map(([k, s, e, , n]) => [k, s, e, n]);
      expect(sorted(b)).toEqual(sorted(sessionRef));
    });

    it(`countWindow, windowAll and keyed aggregations (parallelism ${parallelism})`, async () => {
      const c = StreamingContext.builder().build();
      const src = withTime(c, evs, 50);
      const counts = src
        .keyBy((e) => e.k)
        .countWindow(3)
        .reduce((a, b) => ({ ...a, v: a.v + b.v }))
        .setParallelism(parallelism)
        .collectAsync();
      const all = src
        .windowAll(TumblingEventTimeWindows.of(500))
        .aggregate(sumAndCount, (_key: number, w: TimeWindow, inputs: Iterable<[number, number]>, out: Collector<[number, number, number]>) => {
          for (const [sum, n] of inputs) out.collect([w.start, sum, n]);
        })
        .collectAsync();
      const keyed = src.map((e): [string, number, number] => [e.k, e.v, e.t]).keyBy((r) => r[0]);
      const sums = keyed.sum(1).setParallelism(parallelism).collectAsync();
      const maxBys = keyed.maxBy(1).setParallelism(parallelism).collectAsync();
      const mins = keyed.min(1).setParallelism(parallelism).collectAsync();
      const job = await c.submit(`count-all-agg-${parallelism}`);
      const [gotCounts, gotAll, gotSums, gotMaxBy, gotMin] = await Promise.all([drain(counts), drain(all), drain(sums), drain(maxBys), drain(mins)]);
      await job.result();

      // Per key, records keep their order (one source task); every complete group of 3 fires once.
      const perKey = new Map<string, Ev[]>();
      for (const e of evs) perKey.set(e.k, [...(perKey.get(e.k) ?? []), e]);
      const countRef: [string, number][] = [];
      for (const [k, list] of perKey) for (let i = 0; i + 3 <= list.length; i += 3) countRef.push([k, list[i].v + list[i + 1].v + list[i + 2].v]);
      expect(sorted(gotCounts.map((e) => [e.k, e.v]))).toEqual(sorted(countRef));

      const allRef = new Map<number, [number, number, number]>();
      for (const e of evs) {
        const s = floorStart(e.t, 500);
        const row = allRef.get(s) ?? [s, 0, 0];
        row[1] += e.v;
        row[2] += 1;
        allRef.set(s, row);
      }
      expect(sorted(gotAll)).toEqual(sorted([...allRef.values()]));

      // Changelogs per key, in the key's order.
      const byKey = <T extends [string, ...unknown[]]>(rows: T[]) => {
        const m = new Map<string, T[]>();
        for (const r of rows) m.set(r[0], [...(m.get(r[0]) ?? []), r]);
        return m;
      };
      const sumRef: [string, number, number][] = [];
      const maxByRef: [string, number, number][] = [];
      const minRef: [string, number, number][] = [];
      for (const [k, list] of perKey) {
        let sum = 0;
        let best = list[0];
        let min = Infinity;
        for (const e of list) {
          sum += e.v;
          if (e.v > best.v) best = e;
          min = Math.min(min, e.v);
          sumRef.push([k, sum, list[0].t]);
          maxByRef.push([k, best.v, best.t]);
          minRef.push([k, min, list[0].t]);
        }
      }
      expect(byKey(gotSums)).toEqual(byKey(sumRef));
      expect(byKey(gotMaxBy)).toEqual(byKey(maxByRef));
      expect(byKey(gotMin)).toEqual(byKey(minRef));
    });

    it(`window join pairs the records of both inputs with equal keys in one window (parallelism ${parallelism})`, async () => {
      const left = events(400, 5, 7, 20);
      const right = events(300, 5, 8, 20).map((e) => ({ ...e, v: e.v * 100 }));
      const c = StreamingContext.builder().build();
      const got = await withTime(c, left, 30)
        .join(withTime(c, right, 30))
        .where((x) => x.k)
        .equalTo((y) => y.k)
        .window(TumblingEventTimeWindows.of(200))
        .apply((x, y) => [x.k, x.t, y.t, x.v + y.v])
        .setParallelism(parallelism)
        .executeAndCollect(`join-${parallelism}`);
      const ref: [string, number, number, number][] = [];
      for (const x of left) for (const y of right) if (x.k === y.k && floorStart(x.t, 200) === floorStart(y.t, 200)) ref.push([x.k, x.t, y.t, x.v + y.v]);
      expect(ref.length).toBeGreaterThan(100);
      expect(sorted(got)).toEqual(sorted(ref));
    });
  }

  it('late records go to the late side output; allowed lateness re-fires the window (source-emitted timestamps and watermarks)', async () => {
    const late = new OutputTag<[string, number]>('late');
    const c = StreamingContext.builder().build();
    const source = {
      async run(ctx: SourceContext<[string, number]>) {
        for (const t of [1, 4, 8]) await ctx.collectWithTimestamp(['a', t], t);
        ctx.emitWatermark(12); // [0, 10) fires with 13
        await ctx.collectWithTimestamp(['a', 5], 5); // within lateness 5 (9 + 5 > 12): re-fires with 18
        ctx.emitWatermark(14); // [0, 10) is cleaned up (9 + 5 <= 14)
        await ctx.collectWithTimestamp(['a', 2], 2); // late: side output
        await ctx.collectWithTimestamp(['a', 25], 25);
      },
    };
    const sums = c
      .source(source)
      .keyBy((r) => r[0])
      .window(TumblingEventTimeWindows.of(10))
      .allowedLateness(5)
      .sideOutputLateData(late)
      .reduce((a, b) => [a[0], a[1] + b[1]]);
    const lateRecords = sums.getSideOutput(late).collectAsync();
    const main = sums.collectAsync();
    const job = await c.submit('lateness');
    const [gotMain, gotLate] = await Promise.all([drain(main), drain(lateRecords)]);
    await job.result();
    expect(gotMain).toEqual([
      ['a', 13],
      ['a', 18],
      ['a', 25],
    ]);
    expect(gotLate).toEqual([['a', 2]]);
  });

  it('processing-time windows fire what they hold at the end of a bounded input', async () => {
    const c = StreamingContext.builder().build();
    // One window of 10^12 ms holds the whole run (its next boundary is in the 2030s), so the result does not depend on timing.
    const got = await c
      .fromCollection(evs)
      .keyBy((e) => e.k)
      .window(TumblingProcessingTimeWindows.of(1e12))
      .reduce((a, b) => ({ ...a, v: a.v + b.v }))
      .setParallelism(2)
      .executeAndCollect('processing-time');
    const totals = new Map<string, number>();
    for (const e of evs) totals.set(e.k, (totals.get(e.k) ?? 0) + e.v);
    expect(sorted(got.map((e) => [e.k, e.v]))).toEqual(sorted([...totals]));
  });

  it('without a late side output, late records are dropped and the task reports them (lateRecordsDropped)', async () => {
    const c = StreamingContext.builder().build();
    const source = {
      async run(ctx: SourceContext<[string, number]>) {
        await ctx.collectWithTimestamp(['a', 1], 1);
        await ctx.collectWithTimestamp(['b', 1], 1);
        ctx.emitWatermark(30);
        for (const t of [3, 9, 19]) await ctx.collectWithTimestamp(['a', t], t); // all late: windows end by 19 <= 30
        await ctx.collectWithTimestamp(['b', 35], 35);
      },
    };
    const sums = c
      .source(source)
      .keyBy((r) => r[0])
      .window(TumblingEventTimeWindows.of(10))
      .reduce((a, b) => [a[0], a[1] + b[1]])
      .collectAsync();
    const job = await c.submit('late-dropped');
    const got = await drain(sums);
    const result = await job.result();
    expect(sorted(got)).toEqual(sorted([['a', 1], ['b', 1], ['b', 35]]));
    const dropped = result.tasks.reduce((n, t) => n + (t.lateRecordsDropped ?? 0), 0);
    expect(dropped).toBe(3);
  });

  it("a windowed job with 'state.backend' 'level' and checkpoints gives the reference result", async () => {
    const tmp = tempDir('mobius-window-level-');
    const c = StreamingContext.builder().option('state.backend', 'level').option('checkpoint.interval.ms', 20).option('checkpoint.dir', tmp.dir).build();
    const got = await withTime(c, evs, 50)
      .keyBy((e) => e.k)
      .window(TumblingEventTimeWindows.of(100))
      .aggregate(sumAndCount, asRow)
      .setParallelism(2)
      .executeAndCollect('window-level');
    expect(sorted(got)).toEqual(windowSums(evs, tumbling(100)));
  });
});
