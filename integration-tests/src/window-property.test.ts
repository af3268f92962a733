// The window property test: random out-of-order event streams (seeded), random parallelism 1–4 and
// checkpoint interval, random assigner and terminal; the bound on out-of-orderness is large enough
// that nothing is late, so the windowed sums and counts must equal a plain grouping by key and window.
import { describe, expect, it } from 'vitest';
import { EventTimeSessionWindows, SlidingEventTimeWindows, StreamingContext, TumblingEventTimeWindows, WatermarkStrategy, type Collector, type ProcessWindowContext, type TimeWindow } from 'mobius';
import { events, random, sessionSums, sliding, sorted, tumbling, windowSums, type Ev } from './window-helpers.js';

type Row = [string, number, number, number, number];
const CASES = 8;
const BASE_SEED = 20261203;

const sumCount = {
  createAccumulator: (): [number, number] => [0, 0],
  add: (e: Ev, a: [number, number]): [number, number] => [a[0] + e.v, a[1] + 1],
  getResult: (a: [number, number]) => a,
  merge: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
};

describe('window property: random out-of-order streams equal the reference grouping', () => {
  for (let i = 0; i < CASES; i++) {
    const seed = BASE_SEED + i;
    const rnd = random(seed);
    const parallelism = 1 + Math.floor(rnd() * 4);
    const interval = 10 + Math.floor(rnd() * 150);
    const n = 3000 + Math.floor(rnd() * 9000);
    const keys = 1 + Math.floor(rnd() * 20);
    const jitter = Math.floor(rnd() * 400);
    const shape = (['tumbling', 'sliding', 'session'] as const)[Math.floor(rnd() * 3)];
    const terminal = (['reduce', 'aggregate', 'process'] as const)[Math.floor(rnd() * 3)];
    const size = 20 + Math.floor(rnd() * 300);
    const slide = Math.max(1, Math.ceil(size / 8) + Math.floor(rnd() * size * 0.875));
    const gap = 5 + Math.floor(rnd() * 40);
    // Every other case on LevelDB: window contents and timers (StateTimerService) in its keyed state.
    const backend = i % 2 === 1 ? 'level' : 'memory';

    it(`seed ${seed}: ${shape} (size ${size}, slide ${slide}, gap ${gap}) ${terminal}, parallelism ${parallelism}, checkpoint every ${interval} ms, ${backend} state, ${n} events, ${keys} keys, jitter ${jitter}`, { timeout: 60_000 }, async () => {
      const evs = events(n, keys, seed, jitter);
      const c = StreamingContext.builder().option('checkpoint.interval.ms', interval).option('state.backend', backend).build();
      const keyed = c
        .fromCollection(evs)
        // Every event is at most `jitter` ms behind the largest timestamp before it: nothing is late.
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(jitter + 1).withTimestampAssigner((e) => e.t))
        .keyBy((e) => e.k);
      const windowed =
        shape === 'tumbling' ? keyed.window(TumblingEventTimeWindows.of(size)) : shape === 'sliding' ? keyed.window(SlidingEventTimeWindows.of(size, slide)) : keyed.window(EventTimeSessionWindows.withGap(gap));
      const asRow = (key: string, w: TimeWindow, sum: number, count: number, out: Collector<Row>) => out.collect([key, w.start, w.end, sum, count]);
      const rows =
        terminal === 'reduce'
          ? windowed.reduce(
              (a, b) => ({ k: a.k, t: a.t, v: a.v + b.v }),
              (key: string, w: TimeWindow, inputs: Iterable<Ev>, out: Collector<Row>) => {
                for (const e of inputs) asRow(key, w, e.v, NaN, out);
              },
            )
          : terminal === 'aggregate'
            ? windowed.aggregate(sumCount, (key: string, w: TimeWindow, inputs: Iterable<[number, number]>, out: Collector<Row>) => {
                for (const [sum, count] of inputs) asRow(key, w, sum, count, out);
              })
            : windowed.process({
                process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Ev>, out: Collector<Row>) {
                  let sum = 0;
                  let count = 0;
                  for (const e of elements) {
                    sum += e.v;
                    count++;
                  }
                  asRow(key, ctx.window, sum, count, out);
                },
              });
      const got = await rows.setParallelism(parallelism).executeAndCollect(`window-property-${seed}`);
      let expected = shape === 'tumbling' ? windowSums(evs, tumbling(size)) : shape === 'sliding' ? windowSums(evs, sliding(size, slide)) : sessionSums(evs, gap);
      // reduce keeps the sum only (its value is an event): compare without the count.
      if (terminal === 'reduce') expected = expected.map(([k, s, e, sum]) => [k, s, e, sum, NaN]);
      expect(sorted(got.map((r) => r.map((x) => (Number.isNaN(x) ? null : x))))).toEqual(sorted(expected.map((r) => r.map((x) => (Number.isNaN(x) ? null : x)))));
    });
  }
});
