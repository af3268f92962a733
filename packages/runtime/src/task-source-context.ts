import { MobiusError, type SourceContext } from '@mobius/interface';
import { HeldEmissions, type EmissionTarget } from './held-emissions.js';
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

export class TaskSourceContext implements SourceContext<unknown>, EmissionTarget {
  ended = false;
  /** True while the source's run() is executing (fetch sources are paced by the task). */
  runMode = false;
  /** Set while the task awaits an async fetch: called at the first record collected meanwhile (load metrics). */
  awaitingFetch: (() => void) | null = null;
  /** While a checkpoint taken as a run() source waited is under way: what the source emits meanwhile. */
  private held: HeldEmissions | null = null;

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
    return this.emit(record, NaN);
  }

  collectWithTimestamp(record: unknown, timestamp: number): void | Promise<void> {
    this.checkTime(timestamp, 'TIMESTAMP_INVALID', 'collectWithTimestamp() needs a timestamp');
    return this.emit(record, timestamp);
  }

  emitWatermark(watermark: number): void {
    this.checkTime(watermark, 'WATERMARK_INVALID', 'emitWatermark() needs a time');
    if (this.held !== null) this.held.watermark(watermark);
    else this.op.processWatermark(watermark);
  }

  /**
   * From now until {@link release}, what the source emits is held back (a checkpoint is taken
   * while a run() source waits: nothing it emits may land before the barrier).
   */
  hold(limit: number): void {
    this.held ??= new HeldEmissions(limit, `source "${this.op.identity.operatorName}" task #${this.taskIndex}`);
  }

  /** Emits what was held, in order (see HeldEmissions.release). */
  release(): Promise<{ readonly error: unknown } | undefined> {
    const held = this.held;
    this.held = null;
    return held === null ? Promise.resolve(undefined) : held.release(this);
  }

  /** Hands one record with its event time (NaN: none) to the chain; paces a run() source. */
  emit(record: unknown, timestamp: number): void | Promise<void> {
    const host = this.host;
    if (host.cancelled) throw new TaskCancelledSignal();
    if (this.held !== null) return this.held.record(record, timestamp);
    if (this.awaitingFetch !== null) {
      this.awaitingFetch();
      this.awaitingFetch = null;
    }
    host.recordsIn++;
    this.op.time.timestamp = timestamp;
    this.op.out.collect(record);
    if (this.runMode) return host.afterRunCollect();
  }

  private checkTime(value: number, code: string, what: string): void {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new MobiusError(code, `source "${this.op.identity.operatorName}" task #${this.taskIndex}: ${what} in ms, got ${String(value)}`);
    }
  }

  markAsTemporarilyIdle(): void {
    if (this.held !== null) this.held.idle();
    else this.op.markIdle();
  }

  end(): void {
    this.ended = true;
  }
}
