import { afterAll, describe, expect, it } from 'vitest';
import { StreamingContext, type SinkFunction, type SourceContext, type SourceFunction } from 'mobius';
import { tempDir } from './helpers.js';

/*
 * A run() source that waits on an external event (here: two completed checkpoints) must not
 * hold the job's periodic checkpoints back while it waits. Embedded mode, on the calling
 * thread (`execution.threads: 0`), so the source and the sink share this module's promise.
 */
const FIRST = 100;
const TOTAL = 200;

/** Emits 0..TOTAL-1; after FIRST it waits for `event` (counting a record before collecting it). */
class WaitingSource implements SourceFunction<number> {
  private next = 0;
  constructor(private readonly event: Promise<void>) {}
  async run(sc: SourceContext<number>): Promise<void> {
    while (this.next < FIRST) await sc.collect(this.next++);
    await this.event;
    while (this.next < TOTAL) await sc.collect(this.next++);
  }
  snapshotState(): number {
    return this.next;
  }
  restoreState(next: unknown): void {
    this.next = next as number;
  }
}

/** Keeps what it gets, and calls `onComplete` with the number of checkpoints completed so far. */
class CountingSink implements SinkFunction<number> {
  private completed = 0;
  constructor(
    private readonly out: number[],
    private readonly onComplete: (completed: number) => void,
  ) {}
  sink(x: number): void {
    this.out.push(x);
  }
  notifyCheckpointComplete(): void {
    this.onComplete(++this.completed);
  }
}

describe('periodic checkpoints of a job whose run() source waits on its own work', () => {
  const tmp = tempDir('mobius-run-source-checkpoints-');
  afterAll(() => tmp.remove());

  it('complete while the source waits, and the job gives every record once', { timeout: 120_000 }, async () => {
    let completed = 0;
    let twoCompleted!: () => void;
    const checkpointsWhileWaiting = new Promise<void>((resolve) => (twoCompleted = resolve));
    const out: number[] = [];
    const ctx = StreamingContext.builder().option('checkpoint.interval.ms', 100).option('checkpoint.dir', tmp.dir).option('execution.threads', 0).build();
    ctx
      // The external event comes only once checkpoints completed while the source waited.
      .source(new WaitingSource(checkpointsWhileWaiting))
      .setParallelism(1)
      .map((x) => x * 2)
      .setParallelism(2)
      .sink(
        new CountingSink(out, (n) => {
          completed = n;
          if (n === 2) twoCompleted();
        }),
      )
      .setParallelism(1);
    const job = await ctx.submit('run-source-checkpoints');
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    expect(completed).toBeGreaterThanOrEqual(2);
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: TOTAL }, (_, i) => i * 2));
  });
});
