import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prng } from '@mobius/testkit';
import { FileSink, StreamingContext, WatermarkStrategy, type Collector, type MapFunction, type RuntimeContext } from 'mobius';
import { committedRows } from './checkpoint-helpers.js';
import { hasCommittedFiles } from './embedded-failover-job.js';
import { tempDir } from './helpers.js';

type Ev = { k: number; ts: number; id: number };

/** Throws once, in attempt 0 of task 0, after the sink committed a checkpoint (so the join restores real buffers and timers). */
class FailOnceAfterCommit implements MapFunction<string, string> {
  private failing = false;
  private seen = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.failing = ctx.attempt === 0 && ctx.taskIndex === 0;
  }
  map(pair: string): string {
    if (this.failing && ++this.seen % 100 === 0 && hasCommittedFiles(this.outDir)) {
      this.failing = false;
      throw new Error('injected failure after a committed checkpoint');
    }
    return pair;
  }
}

describe('interval join under single-task failover (embedded)', () => {
  const tmp = tempDir('mobius-process-failover-');
  afterAll(() => tmp.remove());

  it('the failed join task restores its buffers and timers from the checkpoint: every pair is committed exactly once', async () => {
    const random = prng(7);
    const make = (n: number, offset: number): Ev[] => Array.from({ length: n }, (_, i) => ({ k: Math.floor(random() * 20), ts: i + Math.floor(random() * 20), id: offset + i }));
    const lefts = make(60_000, 0);
    const rights = make(60_000, 1_000_000);
    const [lower, upper] = [-10, 10];
    const out = join(tmp.dir, 'out');
    const ctx = StreamingContext.builder()
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .option('failover.strategy', 'single-task')
      .option('pipeline.auto-watermark-interval.ms', 20)
      .build();
    const strategy = () => WatermarkStrategy.forBoundedOutOfOrderness<Ev>(20).withTimestampAssigner((e) => e.ts);
    const left = ctx.fromCollection(lefts).setParallelism(1).assignTimestampsAndWatermarks(strategy());
    const right = ctx.fromCollection(rights).setParallelism(1).assignTimestampsAndWatermarks(strategy());
    left
      .keyBy((e) => e.k)
      .intervalJoin(right.keyBy((e) => e.k))
      .between(lower, upper)
      .process((l, r, _c, o: Collector<string>) => o.collect(`${l.id}|${r.id}`))
      .setParallelism(2)
      .map(new FailOnceAfterCommit(out))
      .sink(new FileSink<string>({ dir: out }));
    const job = await ctx.submit('interval-join-failover');
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    const events = job.events();
    expect(events).toHaveLength(1);
    expect(events[0].strategy).toBe('single-task');
    expect(events[0].failed).toHaveLength(1);

    // Reference: a nested loop per key.
    const byKey = (evs: Ev[]) => {
      const m = new Map<number, Ev[]>();
      for (const e of evs) m.set(e.k, [...(m.get(e.k) ?? []), e]);
      return m;
    };
    const rightsByKey = byKey(rights);
    const reference: string[] = [];
    for (const [k, ls] of byKey(lefts)) for (const l of ls) for (const r of rightsByKey.get(k) ?? []) if (l.ts + lower <= r.ts && r.ts <= l.ts + upper) reference.push(`${l.id}|${r.id}`);
    const got = committedRows<string>(out);
    expect(got.length).toBe(reference.length);
    expect(got.sort()).toEqual(reference.sort());
  }, 300_000);
});
