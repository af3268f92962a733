import type { SourceContext, WatermarkGenerator, WatermarkOutput, WatermarkStrategyLike } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { registerOperator } from './operators/operator-registry.js';
import { StreamOperator } from './operators/stream-operator.js';
import { collection, edge, graph, node, userSource } from './test-graph.js';
import { deploy, runAll } from './test-task-job.js';

/*
 * Record timestamps and watermarks end to end through real tasks: assigned by the timestamps
 * operator (or a source's collectWithTimestamp), carried across a network edge in the frames,
 * read by the next task's operators, and the final +Infinity watermark at the end of input.
 */
interface Event {
  readonly k: string;
  readonly t: number;
}

/** What the test operator saw: each record with the timestamp it arrived with, and each watermark. */
type Seen = { record: unknown; ts: number } | { watermark: number };

/** What one test operator saw, and promises for what a test waits to see (no polling). */
class Sightings {
  readonly seen: Seen[] = [];
  private waiters: { readonly match: (s: Seen) => boolean; readonly resolve: () => void }[] = [];

  add(s: Seen): void {
    this.seen.push(s);
    if (this.waiters.length === 0) return;
    const left = this.waiters.filter((w) => !w.match(s));
    for (const w of this.waiters) if (!left.includes(w)) w.resolve();
    this.waiters = left;
  }

  /** Resolves once the operator saw an entry that `match`es. */
  when(match: (s: Seen) => boolean): Promise<void> {
    if (this.seen.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

const isWatermark = (s: Seen): s is { watermark: number } => 'watermark' in s;

class StampOperator extends StreamOperator {
  constructor(
    id: StreamOperator['identity'],
    private readonly sightings: Sightings,
  ) {
    super(id, undefined);
  }
  collect(record: unknown): void {
    this.sightings.add({ record, ts: this.time.timestamp });
    this.out.collect(record);
  }
  override processWatermark(watermark: number): void {
    // The end of input hands +Infinity to the chain again after the frame brought it: counted once.
    if (watermark > this.currentWatermark) this.sightings.add({ watermark });
    super.processWatermark(watermark);
  }
}

const sinks = new Map<string, Sightings>();
registerOperator('test.stamp', (ctx) => new StampOperator(ctx.identity, sinks.get(ctx.node.name)!));

/** Bounded out-of-orderness 0 over `e.t`, written against the contract (the api's WatermarkStrategy is a layer up). */
function byT(onEmit?: (wm: number) => void): WatermarkStrategyLike<Event> {
  return {
    createTimestampAssigner: () => (e) => e.t,
    createWatermarkGenerator(): WatermarkGenerator<Event> {
      let max = -Infinity;
      return {
        onEvent: (_e, ts) => {
          max = Math.max(max, ts);
        },
        onPeriodicEmit: (out: WatermarkOutput) => {
          if (max > -Infinity) {
            out.emitWatermark(max - 1);
            onEmit?.(max - 1);
          }
        },
      };
    },
  };
}

function sightingsOf(name: string): Sightings {
  const sightings = new Sightings();
  sinks.set(name, sightings);
  return sightings;
}

function seenBy(name: string): Seen[] {
  return sightingsOf(name).seen;
}

/** Tests that wait for a job's tasks to get somewhere: generous for a loaded 2-core machine. */
const LIVE_TIMEOUT_MS = 30_000;

describe('record timestamps across tasks', () => {
  it('a timestamp assigned upstream arrives with each record in the next task, and the end of input brings +Infinity', async () => {
    const events: Event[] = Array.from({ length: 2500 }, (_, i) => ({ k: `k${i % 7}`, t: 1_000 + ((i * 37) % 500) }));
    const seen = seenBy('stamp-a');
    const g = graph(
      [collection('src', events, { parallelism: 1 }), node('ts', 'timestamps', { fn: byT() }), node('stamp-a', 'test.stamp', { parallelism: 2 }), node('sink', 'sink', { fn: () => undefined })],
      [edge('src', 'ts'), edge('ts', 'stamp-a', 'key', { keySelector: (e: Event) => e.k }), edge('stamp-a', 'sink')],
    );
    const job = deploy(g);
    await runAll(job);
    const records = seen.filter((s): s is { record: Event; ts: number } => 'record' in s);
    expect(records).toHaveLength(events.length);
    // Every task reports the watermark it reached (here the final one), and no timers.
    for (const t of job.tasks) expect(t.metrics()).toMatchObject({ currentWatermark: Infinity });
    expect(job.tasks[0].metrics().timersPending).toBeUndefined();
    for (const r of records) expect(r.ts).toBe(r.record.t);
    // Each of the two tasks ends with the final watermark.
    expect(seen.filter((s) => isWatermark(s) && s.watermark === Infinity)).toHaveLength(2);
  });

  it('records without timestamps arrive with none (NaN), also after a stream with them went through the same task', async () => {
    const seen = seenBy('stamp-b');
    const g = graph(
      [collection('src', ['a', 'b', 'c'], { parallelism: 1 }), node('stamp-b', 'test.stamp', { parallelism: 1 }), node('sink', 'sink', { fn: () => undefined })],
      [edge('src', 'stamp-b', 'rebalance'), edge('stamp-b', 'sink')],
    );
    await runAll(deploy(g));
    const records = seen.filter((s): s is { record: string; ts: number } => 'record' in s);
    expect(records.map((r) => r.record)).toEqual(['a', 'b', 'c']);
    for (const r of records) expect(r.ts).toBeNaN();
  });

  it("a source's collectWithTimestamp and emitWatermark reach the next task in order", async () => {
    const seen = seenBy('stamp-c');
    const source = {
      run(ctx: SourceContext<Event>) {
        ctx.collectWithTimestamp({ k: 'x', t: 0 }, 10);
        ctx.collect({ k: 'x', t: 0 });
        ctx.emitWatermark(15);
        ctx.emitWatermark(12); // lower: ignored
        ctx.collectWithTimestamp({ k: 'x', t: 0 }, 20);
      },
    };
    const g = graph(
      [userSource('src', source, { parallelism: 1 }), node('stamp-c', 'test.stamp', { parallelism: 1 }), node('sink', 'sink', { fn: () => undefined })],
      [edge('src', 'stamp-c', 'rebalance'), edge('stamp-c', 'sink')],
    );
    await runAll(deploy(g));
    expect(seen.map((s) => ('record' in s ? s.ts : `wm ${s.watermark}`))).toEqual([10, NaN, 'wm 15', 20, 'wm Infinity']);
  });

  it('task metrics report the current watermark while the job runs (none before the first)', async () => {
    const sightings = sightingsOf('stamp-e');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const source = {
      async run(ctx: SourceContext<Event>) {
        await ctx.collectWithTimestamp({ k: 'x', t: 0 }, 1);
        ctx.emitWatermark(700);
        await released;
      },
    };
    const g = graph(
      [userSource('src', source, { parallelism: 1 }), node('stamp-e', 'test.stamp', { parallelism: 1 }), node('sink', 'sink', { fn: () => undefined })],
      [edge('src', 'stamp-e', 'rebalance'), edge('stamp-e', 'sink')],
    );
    const job = deploy(g);
    const [down] = job.of('stamp-e');
    expect(down.metrics().currentWatermark).toBeUndefined();
    const running = runAll(job);
    await sightings.when(isWatermark);
    expect(down.metrics().currentWatermark).toBe(700);
    expect(job.of('src')[0].metrics().currentWatermark).toBe(700);
    release();
    await running;
  }, LIVE_TIMEOUT_MS);

  // Paced by the periodic watermark's wall-clock timer (every 10 ms), which once lost its
  // wake-up when Node fired it a millisecond early: the source then waited for ever.
  it('periodic watermarks reach the next task while the source is still running', async () => {
    const sightings = sightingsOf('stamp-d');
    const seen = sightings.seen;
    const watermarkArrived = sightings.when((s) => isWatermark(s) && s.watermark === 4_999);
    const source = {
      async run(ctx: SourceContext<Event>) {
        await ctx.collect({ k: 'x', t: 5_000 });
        // The source waits until the downstream task got the periodic watermark 4999.
        await watermarkArrived;
      },
    };
    const g = graph(
      [
        userSource('src', source, { parallelism: 1 }),
        node('ts', 'timestamps', { fn: byT(), config: { 'pipeline.auto-watermark-interval.ms': 10 } }),
        node('stamp-d', 'test.stamp', { parallelism: 1 }),
        node('sink', 'sink', {
          fn: () => undefined,
        }),
      ],
      [edge('src', 'ts'), edge('ts', 'stamp-d', 'rebalance'), edge('stamp-d', 'sink')],
    );
    await runAll(deploy(g));
    const marks = seen.filter(isWatermark).map((s) => s.watermark);
    expect(marks[0]).toBe(4_999);
    expect(marks.at(-1)).toBe(Infinity);
    expect(seen[0]).toEqual({ record: { k: 'x', t: 5_000 }, ts: 5_000 });
  }, LIVE_TIMEOUT_MS);
});
