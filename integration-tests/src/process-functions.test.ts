import { describe, expect, it } from 'vitest';
import {
  JobFailedError,
  OutputTag,
  StreamingContext,
  WatermarkStrategy,
  valueState,
  type Collector,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type ProcessContext,
  type RuntimeContext,
  type SourceContext,
  type ValueState,
} from 'mobius';

type Click = { user: string; t: number };

/** Deterministic clicks: users u0..u4, times out of order by at most 30 ms. */
const clicks: Click[] = Array.from({ length: 400 }, (_, i) => ({ user: `u${(i * 7) % 5}`, t: 1000 + i * 3 + ((i * 37) % 31) }));

const sortRows = <T>(rows: T[]): T[] => rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as T);

/** Per user: a running count in keyed state, and an event-time timer 50 ms after each click that reports when it fired. */
class CountAndRemind implements KeyedProcessFunction<string, Click, [string, string, number, number | null]> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count', { defaultValue: 0 }));
  }
  processElement(c: Click, ctx: KeyedProcessContext<string>, out: Collector<[string, string, number, number | null]>): void {
    const n = this.count.value()! + 1;
    this.count.update(n);
    ctx.timerService().registerEventTimeTimer(ctx.timestamp()! + 50);
    out.collect(['count', ctx.getCurrentKey(), n, ctx.timestamp() ?? null]);
  }
  onTimer(t: number, ctx: OnTimerContext<string>, out: Collector<[string, string, number, number | null]>): void {
    out.collect([`timer-${ctx.timeDomain()}`, ctx.getCurrentKey(), t, ctx.timestamp() ?? null]);
  }
}

describe('process functions (embedded, executeAndCollect)', () => {
  for (const [parallelism, backend] of [
    [1, 'memory'],
    [2, 'memory'],
    [2, 'level'],
  ] as const) {
    it(`keyed process: keyed state, ctx.timestamp/getCurrentKey, event-time timers (deduplicated, in time order per key) (parallelism ${parallelism}, state.backend ${backend})`, async () => {
      const ctx = StreamingContext.builder().option('state.backend', backend).option('state.level.cache-entries', 2).build();
      const got = await ctx
        .fromCollection(clicks)
        .setParallelism(1)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(30).withTimestampAssigner((c) => c.t))
        .keyBy((c) => c.user)
        .process(new CountAndRemind())
        .setParallelism(parallelism)
        .executeAndCollect(`keyed-process-${parallelism}-${backend}`);

      // Reference, independent of the engine.
      const counts = new Map<string, number>();
      const countRows: [string, string, number, number][] = [];
      const timers = new Map<string, Set<number>>();
      for (const c of clicks) {
        const n = (counts.get(c.user) ?? 0) + 1;
        counts.set(c.user, n);
        countRows.push(['count', c.user, n, c.t]);
        if (!timers.has(c.user)) timers.set(c.user, new Set());
        timers.get(c.user)!.add(c.t + 50);
      }
      expect(sortRows(got.filter((r) => r[0] === 'count'))).toEqual(sortRows(countRows));
      const fired = got.filter((r) => r[0] !== 'count');
      for (const [user, times] of timers) {
        const mine = fired.filter((r) => r[1] === user);
        // each distinct time once, in increasing order, emitted with the timer's time as timestamp
        expect(mine.map((r) => r[2])).toEqual([...times].sort((a, b) => a - b));
        for (const r of mine) expect(r).toEqual(['timer-event', user, r[2], r[2]]);
      }
      expect(fired.length).toBe([...timers.values()].reduce((s, t) => s + t.size, 0));
    }, 120_000);
  }

  it('processing-time timers fire on the clock while the job runs (no timestamp on their output)', async () => {
    const ctx = StreamingContext.builder().build();
    const stream = ctx
      .source({
        async run(src: SourceContext<string>) {
          await src.collect('a');
          await src.collect('b');
          while (!src.cancelled) await new Promise((r) => setTimeout(r, 5));
        },
      })
      .setParallelism(1)
      .keyBy((s) => s)
      .process({
        processElement(s: string, c: KeyedProcessContext<string>) {
          c.timerService().registerProcessingTimeTimer(c.timerService().currentProcessingTime() + 20);
        },
        onTimer(_t: number, c: OnTimerContext<string>, out: Collector<[string, string, number | null]>) {
          out.collect([c.getCurrentKey(), c.timeDomain(), c.timestamp() ?? null]);
        },
      });
    // The source never ends: both outputs can only come from timers firing on the clock.
    const got = await stream.executeAndCollect({ jobName: 'processing-timers', limit: 2 });
    expect(sortRows(got)).toEqual([
      ['a', 'processing', null],
      ['b', 'processing', null],
    ]);
  }, 120_000);

  it('stream.process without keyBy: side outputs (two tags, one nobody reads) chained and across a network edge; main and side output into one operator', async () => {
    const evens = new OutputTag<number>('evens');
    const big = new OutputTag<string>('big');
    const unread = new OutputTag<number>('unread');
    const input = Array.from({ length: 100 }, (_, i) => i);
    const ctx = StreamingContext.builder().build();
    const main = ctx
      .fromCollection(input)
      .setParallelism(1)
      .process({
        processElement(v: number, c: ProcessContext, out: Collector<number>) {
          if (v % 2 === 0) c.output(evens, v);
          if (v >= 90) c.output(big, `big ${v}`);
          c.output(unread, v);
          out.collect(v * 10);
        },
      });
    const evensOut = main.getSideOutput(evens).map((v) => `even ${v}`); // chained
    const bigOut = main.getSideOutput(big).rebalance().map((s) => s.toUpperCase()).setParallelism(2); // across the network
    const all = main.map((v) => `main ${v}`).union(evensOut, bigOut);
    const got = await all.executeAndCollect('side-outputs');
    const reference = [
      ...input.map((v) => `main ${v * 10}`),
      ...input.filter((v) => v % 2 === 0).map((v) => `even ${v}`),
      ...input.filter((v) => v >= 90).map((v) => `BIG ${v}`),
    ];
    expect([...got].sort()).toEqual([...reference].sort());
  }, 120_000);

  it('main and side output of one operator read by the same downstream operator', async () => {
    const odd = new OutputTag<number>('odd');
    const ctx = StreamingContext.builder().build();
    const main = ctx
      .fromValues(1, 2, 3, 4, 5)
      .process({
        processElement(v: number, c: ProcessContext, out: Collector<number>) {
          if (v % 2 === 1) c.output(odd, -v);
          else out.collect(v);
        },
      });
    const got = await main.union(main.getSideOutput(odd)).executeAndCollect('main-and-side');
    expect([...got].sort((a, b) => a - b)).toEqual([-5, -3, -1, 2, 4]);
  }, 120_000);

  it('a timer on a stream without keyBy fails the job with PROCESS_NO_TIMERS naming the operator', async () => {
    const ctx = StreamingContext.builder().build();
    const job = ctx
      .fromValues(1)
      .process({
        processElement(_v: number, c: ProcessContext) {
          c.timerService().registerEventTimeTimer(5);
        },
      })
      .name('no-timers-here')
      .executeAndCollect('no-timers');
    const e = await job.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(JobFailedError);
    expect((e as Error).message).toContain('no-timers-here');
    expect((e as Error).message).toContain('keyBy');
    let cause: unknown = e;
    while (cause instanceof Error && (cause as { code?: string }).code !== 'PROCESS_NO_TIMERS') cause = cause.cause;
    expect((cause as { code?: string }).code).toBe('PROCESS_NO_TIMERS');
  }, 120_000);
});
