import { describe, expect, it } from 'vitest';
import { prng } from '@mobius/testkit';
import {
  JobFailedError,
  StreamingContext,
  WatermarkStrategy,
  mapState,
  valueState,
  listState,
  type ListState,
  type SourceContext,
  type BroadcastContext,
  type Collector,
  type IntervalJoinContext,
  type KeyedProcessContext,
  type KeyedReadOnlyBroadcastContext,
  type OnTimerContext,
  type ProcessContext,
  type ReadOnlyBroadcastContext,
  type RuntimeContext,
  type ValueState,
} from 'mobius';

const sortRows = <T>(rows: T[]): T[] => rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as T);

type Ev2 = { k: number; ts: number };
type Order = { user: string; amount: number };
type Payment = { user: string; paid: number };

const orders: Order[] = Array.from({ length: 300 }, (_, i) => ({ user: `u${i % 7}`, amount: i }));
const payments: Payment[] = Array.from({ length: 200 }, (_, i) => ({ user: `u${(i * 3) % 7}`, paid: i * 2 }));

/** Sums each user's orders and payments in keyed state; reports both once the input ended (an event-time timer). */
class Balance {
  private ordered!: ValueState<number>;
  private paid!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.ordered = ctx.getState(valueState<number>('ordered', { defaultValue: 0 }));
    this.paid = ctx.getState(valueState<number>('paid', { defaultValue: 0 }));
  }
  processElement1(o: Order, ctx: KeyedProcessContext<string>): void {
    this.ordered.update(this.ordered.value()! + o.amount);
    ctx.timerService().registerEventTimeTimer(1e12);
  }
  processElement2(p: Payment, ctx: KeyedProcessContext<string>): void {
    this.paid.update(this.paid.value()! + p.paid);
    ctx.timerService().registerEventTimeTimer(1e12);
  }
  onTimer(_t: number, ctx: OnTimerContext<string>, out: Collector<[string, number, number]>): void {
    out.collect([ctx.getCurrentKey(), this.ordered.value()!, this.paid.value()!]);
  }
}

const rates = mapState<string, number>('rates');

/** Emits main records as they are; for each broadcast record, which task saw it and the size of its broadcast state. */
class TaskAndRates {
  private task = -1;
  open(rc: RuntimeContext): void {
    this.task = rc.taskIndex;
  }
  processElement(v: number, _c: ReadOnlyBroadcastContext, out: Collector<unknown>): void {
    out.collect(['main', v]);
  }
  processBroadcastElement(u: [string, number], c: BroadcastContext, out: Collector<unknown>): void {
    c.getBroadcastState(rates).put(u[0], u[1]);
    out.collect(['seen', this.task, u[0], [...c.getBroadcastState(rates).entries()].length]);
  }
}

/** Registers a timer at each record's time; when it fires, reports how many records of its key (both inputs) at or below it were seen. */
class SeenAtTimer {
  private seen!: ListState<number>;
  open(rc: RuntimeContext): void {
    this.seen = rc.getListState(listState<number>('seen'));
  }
  processElement1(e: Ev2, c: KeyedProcessContext<number>): void {
    this.seen.add(e.ts);
    c.timerService().registerEventTimeTimer(e.ts);
  }
  processElement2(e: Ev2, c: KeyedProcessContext<number>): void {
    this.processElement1(e, c);
  }
  onTimer(t: number, c: OnTimerContext<number>, out: Collector<[number, number, number]>): void {
    out.collect([c.getCurrentKey(), t, this.seen.get().filter((ts) => ts <= t).length]);
  }
}

describe('two inputs (embedded, executeAndCollect)', () => {
  for (const parallelism of [1, 2]) {
    it(`connect + keyBy + KeyedCoProcessFunction: keyed state of both inputs, one timer per key (parallelism ${parallelism})`, async () => {
      const ctx = StreamingContext.builder().build();
      const a = ctx.fromCollection(orders).setParallelism(1);
      const b = ctx.fromCollection(payments).setParallelism(1);
      const got = await a
        .connect(b)
        .keyBy((o) => o.user, (p) => p.user)
        .process(new Balance())
        .setParallelism(parallelism)
        .executeAndCollect(`keyed-co-${parallelism}`);
      const ref = new Map<string, [string, number, number]>();
      const row = (u: string): [string, number, number] => ref.get(u) ?? (ref.set(u, [u, 0, 0]), ref.get(u)!);
      for (const o of orders) row(o.user)[1] += o.amount;
      for (const p of payments) row(p.user)[2] += p.paid;
      expect(sortRows(got)).toEqual(sortRows([...ref.values()]));
    }, 120_000);
  }

  it('a keyed co-process runs on the minimum of both watermarks: a timer at t fires after every record at or below t of both inputs', async () => {
    const fast: Ev2[] = Array.from({ length: 3000 }, (_, i) => ({ k: i % 3, ts: i }));
    const slow: Ev2[] = Array.from({ length: 300 }, (_, i) => ({ k: i % 3, ts: i * 10 + 5 }));
    const ctx = StreamingContext.builder().option('pipeline.auto-watermark-interval.ms', 5).build();
    const strategy = () => WatermarkStrategy.forMonotonousTimestamps<Ev2>().withTimestampAssigner((e) => e.ts);
    const a = ctx.fromCollection(fast).setParallelism(1).assignTimestampsAndWatermarks(strategy());
    // The second input trickles in, yielding to the event loop between records: its watermark lags far behind.
    const b = ctx
      .source({
        async run(src: SourceContext<Ev2>) {
          for (const e of slow) {
            if (src.cancelled) return;
            await src.collect(e);
            await new Promise((r) => setImmediate(r));
          }
        },
      })
      .setParallelism(1)
      .assignTimestampsAndWatermarks(strategy());
    const got = await a
      .connect(b)
      .keyBy((e) => e.k, (e) => e.k)
      .process(new SeenAtTimer())
      .executeAndCollect('co-watermark');
    const all = [...fast, ...slow];
    const reference = [...new Set(all.map((e) => `${e.k}:${e.ts}`))].map((s) => {
      const [k, t] = s.split(':').map(Number);
      return [k, t, all.filter((e) => e.k === k && e.ts <= t).length];
    });
    expect(sortRows(got)).toEqual(sortRows(reference));
  }, 120_000);

  it('BroadcastProcessFunction without keys: every task gets every broadcast record', async () => {
    const ctx = StreamingContext.builder().build();
    const got = await ctx
      .fromValues(1, 2, 3, 4)
      .rebalance()
      .connect(ctx.fromValues(['x', 1] as [string, number], ['y', 2] as [string, number]).broadcast(rates))
      .process(new TaskAndRates())
      .setParallelism(2)
      .executeAndCollect('broadcast-plain');
    expect(sortRows(got.filter((r) => (r as unknown[])[0] === 'main'))).toEqual([1, 2, 3, 4].map((v) => ['main', v]));
    expect(sortRows(got.filter((r) => (r as unknown[])[0] === 'seen'))).toEqual(
      sortRows([0, 1].flatMap((t) => [['seen', t, 'x', 1], ['seen', t, 'y', 2]])),
    );
  }, 120_000);

  it('connect + CoProcessFunction without keys: each input reaches its own method', async () => {
    const ctx = StreamingContext.builder().build();
    const got = await ctx
      .fromValues(1, 2, 3)
      .connect(ctx.fromValues('x', 'y'))
      .process({
        processElement1: (v: number, _c: ProcessContext, out: Collector<string>) => out.collect(`n${v}`),
        processElement2: (v: string, _c: ProcessContext, out: Collector<string>) => out.collect(`s${v}`),
      })
      .executeAndCollect('co');
    expect([...got].sort()).toEqual(['n1', 'n2', 'n3', 'sx', 'sy']);
  }, 120_000);

  for (const parallelism of [1, 3]) {
    it(`keyed broadcast state: every task sees every broadcast record; the keyed side reads it (parallelism ${parallelism})`, async () => {
      const rateUpdates: [string, number][] = [
        ['EUR', 1.1],
        ['GBP', 1.3],
        ['EUR', 1.2],
      ];
      const amounts: [string, number][] = Array.from({ length: 60 }, (_, i) => [i % 2 === 0 ? 'EUR' : 'GBP', i]);
      const ctx = StreamingContext.builder().build();
      const model = ctx.fromCollection(rateUpdates).setParallelism(1).broadcast(rates);
      const got = await ctx
        .fromCollection(amounts)
        .setParallelism(1)
        .keyBy((r) => r[0])
        .connect(model)
        .process({
          open(rc: RuntimeContext) {
            (this as unknown as { task: number }).task = rc.taskIndex;
          },
          processElement(r: [string, number], c: KeyedReadOnlyBroadcastContext<string>) {
            // Wait for every broadcast record: answer at the end of input.
            c.timerService().registerEventTimeTimer(1e12 + r[1]);
          },
          processBroadcastElement(u: [string, number], c: BroadcastContext, out: Collector<unknown>) {
            c.getBroadcastState(rates).put(u[0], u[1]);
            out.collect(['seen', (this as unknown as { task: number }).task, u[0], u[1]]);
          },
          onTimer(t: number, c: KeyedReadOnlyBroadcastContext<string> & { timeDomain(): string }, out: Collector<unknown>) {
            const n = t - 1e12;
            out.collect(['converted', c.getCurrentKey(), n, n * c.getBroadcastState(rates).get(c.getCurrentKey())!, [...c.getBroadcastState(rates).entries()].length]);
          },
        })
        .setParallelism(parallelism)
        .executeAndCollect(`broadcast-${parallelism}`);
      const seen = got.filter((r) => (r as unknown[])[0] === 'seen');
      const expectedSeen: unknown[] = [];
      for (let task = 0; task < parallelism; task++) for (const u of rateUpdates) expectedSeen.push(['seen', task, ...u]);
      expect(sortRows(seen)).toEqual(sortRows(expectedSeen));
      const finalRates = new Map(rateUpdates);
      const converted = got.filter((r) => (r as unknown[])[0] === 'converted');
      expect(sortRows(converted)).toEqual(sortRows(amounts.map(([cur, n]) => ['converted', cur, n, n * finalRates.get(cur)!, finalRates.size])));
    }, 120_000);
  }

  it('writing broadcast state from processElement fails the job with BROADCAST_STATE_READ_ONLY', async () => {
    const ctx = StreamingContext.builder().build();
    const job = ctx
      .fromValues(1)
      .connect(ctx.fromValues(['a', 1] as [string, number]).broadcast(rates))
      .process({
        processElement(_v: number, c: ReadOnlyBroadcastContext) {
          (c.getBroadcastState(rates) as unknown as { put(k: string, v: number): void }).put('x', 1);
        },
        processBroadcastElement() {},
      })
      .executeAndCollect('read-only');
    const e = await job.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(JobFailedError);
    expect((e as Error).message).toContain('read-only');
    let cause: unknown = e;
    while (cause instanceof Error && (cause as { code?: string }).code !== 'BROADCAST_STATE_READ_ONLY') cause = cause.cause;
    expect((cause as { code?: string }).code).toBe('BROADCAST_STATE_READ_ONLY');
  }, 120_000);

  type Ev = { k: number; ts: number; id: number };

  for (const [parallelism, backend] of [
    [1, 'memory'],
    [2, 'memory'],
    [2, 'level'],
  ] as const) {
    it(`interval join equals a nested loop on random out-of-order input (parallelism ${parallelism}, state.backend ${backend})`, async () => {
      const random = prng(42 + parallelism);
      const make = (n: number, offset: number): Ev[] => Array.from({ length: n }, (_, i) => ({ k: Math.floor(random() * 5), ts: i * 2 + Math.floor(random() * 20), id: offset + i }));
      const lefts = make(300, 0);
      const rights = make(300, 1000);
      const [lower, upper] = [-7, 12];
      // A tiny LevelDB cache makes every buffer go through encoding and back.
      const ctx = StreamingContext.builder().option('state.backend', backend).option('state.level.cache-entries', 2).build();
      const strategy = () => WatermarkStrategy.forBoundedOutOfOrderness<Ev>(20).withTimestampAssigner((e) => e.ts);
      const left = ctx.fromCollection(lefts).setParallelism(1).assignTimestampsAndWatermarks(strategy());
      const right = ctx.fromCollection(rights).setParallelism(1).assignTimestampsAndWatermarks(strategy());
      const got = await left
        .keyBy((e) => e.k)
        .intervalJoin(right.keyBy((e) => e.k))
        .between(lower, upper)
        .process((l, r, c: IntervalJoinContext, out: Collector<[number, number, number]>) => out.collect([l.id, r.id, c.timestamp()]))
        .setParallelism(parallelism)
        .process({
          processElement(v: [number, number, number], c: ProcessContext, out: Collector<[number, number, number, number | null]>) {
            out.collect([...v, c.timestamp() ?? null]); // the output's timestamp, as the next operator sees it
          },
        })
        .executeAndCollect(`interval-join-${parallelism}-${backend}`);
      const reference: [number, number, number, number][] = [];
      for (const l of lefts) for (const r of rights) if (l.k === r.k && l.ts + lower <= r.ts && r.ts <= l.ts + upper) reference.push([l.id, r.id, Math.max(l.ts, r.ts), Math.max(l.ts, r.ts)]);
      expect(reference.length).toBeGreaterThan(50);
      expect(sortRows(got)).toEqual(sortRows(reference));
    }, 120_000);
  }

  it('an interval join of records without timestamps fails with INTERVAL_JOIN_NO_TIMESTAMP', async () => {
    const ctx = StreamingContext.builder().build();
    const job = ctx
      .fromValues(1, 2)
      .keyBy((v) => v)
      .intervalJoin(ctx.fromValues(1, 2).keyBy((v) => v))
      .between(0, 1)
      .process((l, r, _c, out: Collector<number>) => out.collect(l + r))
      .executeAndCollect('join-no-ts');
    const e = await job.then(() => undefined, (err: unknown) => err);
    let cause: unknown = e;
    while (cause instanceof Error && (cause as { code?: string }).code !== 'INTERVAL_JOIN_NO_TIMESTAMP') cause = cause.cause;
    expect((cause as { code?: string }).code).toBe('INTERVAL_JOIN_NO_TIMESTAMP');
  }, 120_000);
});
