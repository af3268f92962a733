import { CoreOptions, MobiusError, getOperatorConfig, type RuntimeContext, type TimestampAssigner, type WatermarkGenerator, type WatermarkOutput, type WatermarkStrategyLike } from '@mobius/interface';
import { operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator } from './stream-operator.js';

/**
 * assignTimestampsAndWatermarks (Flink's TimestampsAndWatermarksOperator): sets each record's
 * event time with the strategy's assigner, feeds its watermark generator, and emits the
 * generator's watermarks every `pipeline.auto-watermark-interval.ms` (and whenever it emits one
 * from `onEvent`). Watermarks from upstream are swallowed, except the final +Infinity of a
 * bounded input. With `withIdleness(ms)`, a task that saw no record for `ms` marks its output
 * idle; its next record makes it active again.
 */
export class TimestampsOperator extends StreamOperator {
  private readonly assigner: TimestampAssigner<unknown> | undefined;
  private readonly generator: WatermarkGenerator<unknown>;
  private readonly idlenessMs: number | undefined;
  /** The last watermark emitted (never goes backwards). */
  private emitted = -Infinity;
  private idle = false;
  private lastRecordAt = 0;
  private closed = false;
  /** Where the generator emits (the operator's own `emitWatermark` is its input side, as for every chained operator). */
  private readonly watermarks: WatermarkOutput = {
    emitWatermark: (watermark) => this.emitOwn(watermark),
    markIdle: () => this.goIdle(),
    markActive: () => this.markActive(),
  };

  constructor(
    identity: OperatorIdentity,
    strategy: WatermarkStrategyLike<unknown>,
    private readonly intervalMs: number,
  ) {
    super(identity, undefined);
    this.assigner = strategy.createTimestampAssigner();
    this.generator = strategy.createWatermarkGenerator();
    this.idlenessMs = strategy.idlenessMs;
  }

  collect(record: unknown): void {
    const time = this.time;
    let ts = time.timestamp;
    try {
      if (this.assigner !== undefined) ts = this.assigner(record, ts);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    if (typeof ts !== 'number' || ts !== ts) {
      throw operatorFailure(
        this.identity,
        new MobiusError('TIMESTAMP_INVALID', `the timestamp assigner of "${this.identity.operatorName}" returned ${String(ts)} for a record; it must return a time in ms`),
      );
    }
    time.timestamp = ts;
    if (this.idlenessMs !== undefined) this.lastRecordAt = this.processingTime.now();
    if (this.idle) this.markActive();
    try {
      this.generator.onEvent(record, ts, this.watermarks);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    this.out.collect(record);
  }

  override async open(ctx: RuntimeContext): Promise<void> {
    await super.open(ctx);
    this.lastRecordAt = this.processingTime.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    const every = this.intervalMs > 0 ? this.intervalMs : this.idlenessMs;
    if (every === undefined) return;
    this.processingTime.scheduleAt(this.processingTime.now() + every, (now) => this.onPeriodic(now));
  }

  private onPeriodic(now: number): void {
    if (this.closed || now === Infinity) return;
    try {
      if (this.intervalMs > 0) this.generator.onPeriodicEmit(this.watermarks);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    if (this.idlenessMs !== undefined && !this.idle && now - this.lastRecordAt >= this.idlenessMs) this.goIdle();
    this.schedule();
  }

  /** A watermark from the generator (lower or equal values are ignored). */
  private emitOwn(watermark: number): void {
    if (!(watermark > this.emitted)) return;
    if (this.idle) this.markActive();
    this.emitted = watermark;
    this.currentWatermark = watermark;
    this.out.emitWatermark?.(watermark);
  }

  /** Upstream watermarks are replaced by this operator's own; the final +Infinity of a bounded input goes on. */
  override processWatermark(watermark: number): void {
    if (watermark === Infinity) this.emitOwn(Infinity);
  }

  /** Upstream idleness is replaced by this operator's own (withIdleness). */
  override markIdle(): void {}

  private goIdle(): void {
    if (this.idle) return;
    this.idle = true;
    this.out.markIdle?.();
  }

  /** Active again: downstream takes this input into its watermark from the next watermark on. */
  private markActive(): void {
    if (!this.idle) return;
    this.idle = false;
    // The next watermark frame makes the channel active downstream; re-send the current one.
    if (this.emitted !== -Infinity) this.out.emitWatermark?.(this.emitted);
  }

  override async close(): Promise<void> {
    this.closed = true;
    await super.close();
  }
}

/** Registers kind 'timestamps' (`stream.assignTimestampsAndWatermarks(strategy)`). */
export const TIMESTAMPS_OPERATOR = registerOperator('timestamps', (ctx) => {
  const strategy = ctx.fn as WatermarkStrategyLike<unknown>;
  const interval = getOperatorConfig(ctx.node.config, ctx.jobConfig, CoreOptions.AUTO_WATERMARK_INTERVAL_MS);
  return new TimestampsOperator(ctx.identity, strategy, interval);
});
