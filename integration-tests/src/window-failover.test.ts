// A windowed job in embedded mode loses its window task once (an error thrown while a window
// fires, after a checkpoint was committed) and recovers single-task: the window contents come
// back from the checkpoint and the exactly-once FileSink holds each (user, window) count once.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FileSink,
  StreamingContext,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type RuntimeContext,
  type SourceContext,
  type SourceFunction,
  type TimeWindow,
} from 'mobius';
import { committedRows, windowCountViolations } from './checkpoint-helpers.js';
import { hasCommittedFiles } from './embedded-failover-job.js';
import { tempDir } from './helpers.js';

interface Click {
  user: string;
  time: number;
}
type Row = [string, number, number];

const EVENTS = 20_000;
const USERS = 23;
const click = (i: number): Click => ({ user: `u${(i * 7919) % USERS}`, time: i * 5 + ((i * 104_729) % 400) });

/** Shared by the source and the window function of the one in-process (embedded) job: has the failure happened? */
const gate = { failed: false };

/**
 * The clicks in order. Half-way it holds back (emits nothing) until the sink committed a
 * checkpoint, so the injected failure, on the next window that fires, comes after a committed
 * checkpoint and with windows still to come, however slow the machine.
 */
class Clicks implements SourceFunction<Click> {
  private next = 0;
  constructor(private readonly out: string) {}
  async fetch(ctx: SourceContext<Click>): Promise<void> {
    if (this.next >= EVENTS) {
      ctx.end();
      return;
    }
    if (this.next >= EVENTS / 2 && !gate.failed && !hasCommittedFiles(this.out)) {
      await new Promise((r) => setTimeout(r, 5));
      return;
    }
    for (let n = 0; n < 200 && this.next < EVENTS; n++) ctx.collect(click(this.next++));
  }
  snapshotState(): number {
    return this.next;
  }
  restoreState(next: unknown): void {
    this.next = next as number;
  }
}

/** Counts a window's clicks; throws once in attempt 0 of task 0, after the sink committed a checkpoint. */
class CountOrFail {
  private failing = false;
  constructor(private readonly out: string) {}
  open(ctx: RuntimeContext): void {
    this.failing = ctx.attempt === 0 && ctx.taskIndex === 0;
  }
  process(user: string, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Click>, out: Collector<Row>): void {
    if (this.failing && !gate.failed && hasCommittedFiles(this.out)) {
      gate.failed = true;
      throw new Error('injected failure while a window fires');
    }
    let n = 0;
    for (const _ of elements) n++;
    out.collect([user, ctx.window.start, n]);
  }
}

describe('window job with single-task failover (embedded)', () => {
  const tmp = tempDir('mobius-window-failover-');
  afterAll(() => tmp.remove());

  it('recovers the window task from its checkpoint: every (user, window) committed once with its exact count', { timeout: 120_000 }, async () => {
    const out = join(tmp.dir, 'out');
    const ctx = StreamingContext.builder()
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('pipeline.auto-watermark-interval.ms', 20)
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .option('failover.strategy', 'single-task')
      .build();
    ctx
      .source(new Clicks(out))
      .setParallelism(1)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(500).withTimestampAssigner((c) => c.time))
      .keyBy((c) => c.user)
      .window(TumblingEventTimeWindows.of(1_000))
      .process(new CountOrFail(out))
      .setParallelism(2)
      .sink(new FileSink<Row>({ dir: out }));
    const job = await ctx.submit('window-failover');
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    expect(gate.failed).toBe(true);
    const events = job.events();
    expect(events).toHaveLength(1);
    expect(events[0].strategy).toBe('single-task');

    const expected = new Map<string, number>();
    for (let i = 0; i < EVENTS; i++) {
      const c = click(i);
      const id = `${c.user}@${Math.floor(c.time / 1000) * 1000}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    const wrong = windowCountViolations(committedRows<Row>(out), expected).map((v) => v.window);
    expect(wrong).toEqual([]);
  });
});
