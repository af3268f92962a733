import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, StreamingContext, WatermarkStrategy, type JobHandle, type MapFunction, type RuntimeContext, type TaskMetrics } from 'mobius';
import { NEXMARK_QUERIES, NexmarkSource, generateEvents, highestBids, nexmarkStream, q3, q7, referenceQ3, referenceQ7, type Bid, type Event, type NexmarkQuery, type NexmarkQueryName, type Q3Row, type Q7Row } from '@mobius/nexmark';
import { committedRows } from './checkpoint-helpers.js';
import { hasCommittedFiles } from './embedded-failover-job.js';
import { tempDir } from './helpers.js';

/** Order-free comparison: results of parallel tasks interleave in any order. */
const sorted = <T>(rows: readonly T[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

const context = (parallelism: number): StreamingContext => StreamingContext.builder().option('parallelism.default', parallelism).build();

describe('Nexmark in embedded mode', () => {
  it('the source gives the same events at parallelism 1 and 2, those of the plain generator', async () => {
    const config = { count: 4000, seed: 11, outOfOrderGroupSize: 5, batchSize: 256 };
    const expected = sorted(generateEvents(config));
    for (const parallelism of [1, 2]) {
      const got = await context(parallelism).source(new NexmarkSource(config)).executeAndCollect(`nexmark-source-p${parallelism}`);
      expect(got.length).toBe(4000);
      expect(sorted(got)).toEqual(expected);
    }
  }, 120_000);

  it('the source\'s watermarks cross a key shuffle: the keyed tasks\' watermarks advance with the records and never pass them', async () => {
    // Out of order in groups of 10 at 1 event per ms: a source task's watermark trails its events by less than a group plus a batch.
    const config = { count: 40_000, seed: 1, eventsPerSecond: 1000, outOfOrderGroupSize: 10, batchSize: 100 };
    const ctx = context(2);
    let job: JobHandle | undefined;
    let seen = 0;
    let maxTime = -Infinity;
    const samples: { maxTime: number; watermarks: (number | undefined)[] }[] = [];
    nexmarkStream(ctx, config)
      .keyBy((e: Event) => (e.type === 'bid' ? e.bidder : e.type === 'auction' ? e.seller : e.id))
      .map((e: Event) => e.dateTime)
      .name('keyed')
      .sink((t: number) => {
        maxTime = Math.max(maxTime, t);
        // Every 5000 records, what the keyed tasks report (the sink is chained to them: same thread, same moment).
        if (++seen % 5000 === 0 && job !== undefined) {
          const keyed = job.metrics().filter((m: TaskMetrics) => m.vertexName.includes('keyed'));
          samples.push({ maxTime, watermarks: keyed.map((m) => m.currentWatermark) });
        }
      });
    job = await ctx.submit('nexmark-watermarks');
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    expect(samples.length).toBeGreaterThan(3);
    const base = Date.UTC(2026, 0, 1);
    const advanced = samples.filter((s) => s.watermarks.some((w) => w !== undefined && w > base + 1000));
    expect(advanced.length).toBeGreaterThan(0);
    expect(advanced.length).toBeGreaterThanOrEqual(samples.length - 2);
    for (const s of samples) {
      // A watermark w says every record at or before w has come, so a record at or after w was seen
      // (+Infinity: that task's inputs have ended).
      for (const w of s.watermarks) if (w !== undefined && w !== Infinity) expect(w).toBeLessThanOrEqual(s.maxTime);
    }
  }, 120_000);

  // 100 events per second of event time: 100 s, so ten 10 s windows (q7, q8), 50 hops (q5) and several sessions per bidder (q11).
  const inOrder = { count: 10_000, seed: 7, eventsPerSecond: 100 };
  // Events out of order within groups of 16 and small batches: bids before their auctions, late-looking records, many watermarks.
  const shuffled = { ...inOrder, seed: 8, outOfOrderGroupSize: 16, batchSize: 64 };
  const inOrderEvents = generateEvents(inOrder);
  const runs = [
    { config: inOrder, events: inOrderEvents, parallelism: 1, what: '' },
    { config: inOrder, events: inOrderEvents, parallelism: 2, what: '' },
    { config: shuffled, events: generateEvents(shuffled), parallelism: 2, what: ' out of order' },
  ];
  for (const name of Object.keys(NEXMARK_QUERIES) as NexmarkQueryName[]) {
    for (const { config, events, parallelism, what } of runs) {
      it(`${name} at parallelism ${parallelism} equals its reference on ${config.count} events${what}`, async () => {
        const query = NEXMARK_QUERIES[name];
        const expected: readonly unknown[] = query.reference(events);
        expect(expected.length).toBeGreaterThan(0);
        const got: readonly unknown[] = await query.build(context(parallelism), config).executeAndCollect(`nexmark-${name}-p${parallelism}`);
        const upsertKey = (query as NexmarkQuery<unknown>).upsertKey;
        if (upsertKey === undefined) {
          expect(sorted(got)).toEqual(sorted(expected));
          return;
        }
        // A changelog: no key the reference lacks, and the last row of each key is the reference's row.
        const expectedKeys = new Set(expected.map(upsertKey));
        for (const row of got) expect(expectedKeys.has(upsertKey(row))).toBe(true);
        const last = new Map(got.map((row) => [upsertKey(row), row]));
        expect(sorted([...last.values()])).toEqual(sorted(expected));
      }, 120_000);
    }
  }
});

/** Throws once, in the first attempt, at the first row after the sink committed a checkpoint. */
class FailOnceAfterACommit<R> implements MapFunction<R, R> {
  private attempt = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.attempt = ctx.attempt;
  }
  map(row: R): R {
    if (this.attempt === 0 && hasCommittedFiles(this.outDir)) {
      throw new Error('injected failure after a committed checkpoint');
    }
    return row;
  }
}

describe('Nexmark q3 with checkpoints and a failure (embedded)', () => {
  const tmp = tempDir('mobius-nexmark-');
  afterAll(() => tmp.remove());

  it('restores the source positions and the join state: every row exactly once', async () => {
    // Long enough (a few seconds) for checkpoints to complete and be committed before the end.
    const config = { count: 600_000, seed: 3, batchSize: 500 };
    const out = join(tmp.dir, 'out');
    const ctx = StreamingContext.builder()
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    q3(ctx, config).map(new FailOnceAfterACommit<Q3Row>(out)).sink(new FileSink<Q3Row>({ dir: out }));
    const result = await ctx.execute('nexmark_q3_failover');
    expect(result.state).toBe('FINISHED');
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true); // it did fail and recover
    const rows = committedRows<Q3Row>(out);
    expect(sorted(rows)).toEqual(sorted(referenceQ3(generateEvents(config))));
  }, 180_000);

  it('q7 restores its windows\' maxima, candidate bids and timers: every row exactly once', async () => {
    // 1000 events per second of event time: a q7 row every 10,000 events, so rows come while checkpoints commit.
    const config = { count: 400_000, seed: 5, eventsPerSecond: 1000, batchSize: 500 };
    const out = join(tmp.dir, 'out-q7');
    const ctx = StreamingContext.builder()
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints-q7'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    q7(ctx, config).map(new FailOnceAfterACommit<Q7Row>(out)).sink(new FileSink<Q7Row>({ dir: out }));
    const result = await ctx.execute('nexmark_q7_failover');
    expect(result.state).toBe('FINISHED');
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true);
    const rows = committedRows<Q7Row>(out);
    const expected = referenceQ7(generateEvents(config));
    expect(expected.length).toBeGreaterThan(30);
    expect(sorted(rows)).toEqual(sorted(expected));
  }, 180_000);
});

describe('Nexmark q7 at a window boundary (embedded)', () => {
  it('a bid exactly at a window\'s end with that window\'s highest price joins both windows, as the SQL\'s BETWEEN', async () => {
    const end = Date.UTC(2026, 0, 1, 0, 0, 10); // a multiple of 10 s: the end of [end - 10 s, end), the start of the next
    const bid = (dateTime: number, price: number, bidder: number): Bid => ({ type: 'bid', auction: 1000, bidder, price, channel: 'c', url: 'u', dateTime, extra: '' });
    const bids = [
      bid(end - 9_000, 500, 1),
      bid(end - 1, 700, 2), // the first window's highest
      bid(end, 700, 3), // next window's; ties the first window's highest at its inclusive end
      bid(end + 1_000, 900, 4), // the next window's highest
      bid(end + 10_000, 300, 5), // at the second window's end, below its highest; below the third window's highest too
      bid(end + 12_000, 800, 6), // the third window's highest
    ];
    const expected = referenceQ7(bids);
    expect(expected.map((r) => r.bidder)).toEqual([2, 3, 4, 6]);
    const ctx = context(1);
    const stream = ctx.fromCollection(bids).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Bid>().withTimestampAssigner((b) => b.dateTime));
    const got = await highestBids(stream).executeAndCollect('nexmark-q7-boundary');
    expect(sorted(got)).toEqual(sorted(expected));
  }, 60_000);
});
