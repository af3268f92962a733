import { MobiusError, type SourceContext } from '@mobius/interface';
import type { StreamOperator } from './operators/stream-operator.js';

/** Thrown into a `run()` source that collects after its task was cancelled, to unwind it. */
export class TaskCancelledSignal extends Error {
  constructor() {
    super('task cancelled');
  }
}

/** What the task offers its source context. */
export interface SourceHost {
  readonly cancelled: boolean;
  recordsIn: number;
  /** After a collect in a run() source: a promise when the source must wait, else undefined. */
  afterRunCollect(): Promise<void> | undefined;
}

export class TaskSourceContext implements SourceContext<unknown> {
  ended = false;
  /** True while the source's run() is executing (fetch sources are paced by the task). */
  runMode = false;

  constructor(
    private readonly host: SourceHost,
    private readonly op: StreamOperator,
    readonly taskIndex: number,
    readonly parallelism: number,
  ) {}

  get cancelled(): boolean {
    return this.host.cancelled;
  }

  collect(record: unknown): void | Promise<void> {
    const host = this.host;
    if (host.cancelled) throw new TaskCancelledSignal();
    host.recordsIn++;
    this.op.time.timestamp = NaN;
    this.op.out.collect(record);
    if (this.runMode) return host.afterRunCollect();
  }

  collectWithTimestamp(record: unknown, timestamp: number): void | Promise<void> {
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
      throw new MobiusError('TIMESTAMP_INVALID', `source "${this.op.identity.operatorName}" task #${this.taskIndex}: collectWithTimestamp() needs a timestamp in ms, got ${String(timestamp)}`);
    }
    const host = this.host;
    if (host.cancelled) throw new TaskCancelledSignal();
    host.recordsIn++;
    this.op.time.timestamp = timestamp;
    this.op.out.collect(record);
    if (this.runMode) return host.afterRunCollect();
  }

  emitWatermark(watermark: number): void {
    if (typeof watermark !== 'number' || Number.isNaN(watermark)) {
      throw new MobiusError('WATERMARK_INVALID', `source "${this.op.identity.operatorName}" task #${this.taskIndex}: emitWatermark() needs a time in ms, got ${String(watermark)}`);
    }
    this.op.processWatermark(watermark);
  }

  markAsTemporarilyIdle(): void {
    this.op.markIdle();
  }

  end(): void {
    this.ended = true;
  }
}
