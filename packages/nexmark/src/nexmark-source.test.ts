import { describe, expect, it } from 'vitest';
import { MobiusError, type SourceContext } from '@mobius/interface';
import type { Event } from './model.js';
import { generateEvents } from './nexmark-events.js';
import { NexmarkSource } from './nexmark-source.js';

/** Records what a source task emits, in order: events with their timestamps, and watermarks. */
class RecordingContext implements SourceContext<Event> {
  readonly events: Event[] = [];
  readonly watermarks: number[] = [];
  readonly log: string[] = [];
  ended = false;
  readonly cancelled = false;
  constructor(
    readonly taskIndex: number,
    readonly parallelism: number,
  ) {}
  collect(): void {
    throw new Error('the Nexmark source always emits with a timestamp');
  }
  collectWithTimestamp(record: Event, timestamp: number): void {
    if (timestamp !== record.dateTime) throw new Error(`timestamp ${timestamp} is not the event's dateTime ${record.dateTime}`);
    const lastWatermark = this.watermarks.at(-1);
    if (lastWatermark !== undefined && timestamp <= lastWatermark) throw new Error(`event at ${timestamp} after watermark ${lastWatermark}`);
    this.events.push(record);
  }
  emitWatermark(watermark: number): void {
    this.watermarks.push(watermark);
  }
  markAsTemporarilyIdle(): void {}
  end(): void {
    this.ended = true;
  }
}

function runTask(config: ConstructorParameters<typeof NexmarkSource>[0], index: number, parallelism: number): RecordingContext {
  const source = new NexmarkSource(config);
  const ctx = new RecordingContext(index, parallelism);
  source.init(parallelism, index);
  while (!ctx.ended) source.fetch(ctx);
  return ctx;
}

describe('NexmarkSource', () => {
  it('splits the events over its tasks (task i of p takes positions i, i+p, ...) with watermarks never overtaken', () => {
    const config = { count: 5003, batchSize: 100, outOfOrderGroupSize: 7, seed: 3 };
    const all = generateEvents(config);
    const tasks = [0, 1, 2].map((i) => runTask(config, i, 3));
    for (const [i, task] of tasks.entries()) expect(task.events).toEqual(all.filter((_, k) => k % 3 === i));
    expect(tasks[0]!.watermarks.length).toBe(16);
    // Watermarks rise with the task's event time and stay within one batch of it.
    const t0 = tasks[0]!;
    for (let b = 1; b < t0.watermarks.length; b++) expect(t0.watermarks[b]!).toBeGreaterThan(t0.watermarks[b - 1]!);
    expect(t0.events[99]!.dateTime - t0.watermarks[0]!).toBeLessThan(10);
  });

  it('resumes from its snapshot where it stopped', () => {
    const config = { count: 1000, batchSize: 64 };
    const first = new NexmarkSource(config);
    const ctx = new RecordingContext(1, 2);
    first.init(2, 1);
    first.fetch(ctx);
    first.fetch(ctx);
    const offset = first.snapshotState();
    expect(offset).toBe(1 + 2 * 128);
    const resumed = new NexmarkSource(config);
    resumed.init(2, 1);
    resumed.restoreState(offset);
    while (!ctx.ended) resumed.fetch(ctx);
    expect(ctx.events).toEqual(generateEvents(config).filter((_, k) => k % 2 === 1));
    expect(() => resumed.restoreState('x')).toThrow(MobiusError);
  });

  it('validates its configuration when the job is built', () => {
    expect(() => new NexmarkSource({ eventsPerSecond: -1 })).toThrow(/eventsPerSecond/);
  });
});
