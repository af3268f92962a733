import { PlanError, type TimestampAssigner, type WatermarkGenerator, type WatermarkOutput, type WatermarkStrategyLike } from '@mobius/interface';

/**
 * Flink's BoundedOutOfOrdernessWatermarks: the watermark is the largest timestamp seen minus the
 * bound minus 1, emitted periodically; nothing before the first record.
 */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private max = -Infinity;

  constructor(private readonly boundMs: number) {}

  onEvent(_record: T, timestamp: number): void {
    if (timestamp > this.max) this.max = timestamp;
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.max !== -Infinity) output.emitWatermark(this.max - this.boundMs - 1);
  }
}

/** Emits no watermark at all (`WatermarkStrategy.noWatermarks()`). */
class NoWatermarks<T> implements WatermarkGenerator<T> {
  onEvent(): void {}
  onPeriodicEmit(): void {}
}

function checkMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new PlanError('PLAN_INVALID_FUNCTION', `${what} must be a finite number of ms at least 0, got ${String(value)}`);
  }
  return value;
}

/**
 * How a stream gets its event time and watermarks (Flink's WatermarkStrategy), for
 * `stream.assignTimestampsAndWatermarks(strategy)`. Immutable: each `with…` returns a new one.
 *
 * ```ts
 * WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000).withTimestampAssigner((c) => c.time).withIdleness(60_000)
 * ```
 */
export class WatermarkStrategy<T> implements WatermarkStrategyLike<T> {
  private constructor(
    private readonly generator: () => WatermarkGenerator<T>,
    private readonly assigner: TimestampAssigner<T> | undefined,
    readonly idlenessMs: number | undefined,
  ) {}

  /** Records may come up to `maxOutOfOrdernessMs` late: watermark = largest timestamp − bound − 1. */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    const bound = checkMs(maxOutOfOrdernessMs, 'forBoundedOutOfOrderness(): the bound');
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(bound), undefined, undefined);
  }

  /** Timestamps never decrease: watermark = largest timestamp − 1. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(0), undefined, undefined);
  }

  /** Timestamps without watermarks (event-time windows then fire only at the end of a bounded input). */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new NoWatermarks<T>(), undefined, undefined);
  }

  /** A strategy of your own generator (one per parallel task). */
  static forGenerator<T>(create: () => WatermarkGenerator<T>): WatermarkStrategy<T> {
    if (typeof create !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `forGenerator() takes a function that makes a WatermarkGenerator, got ${typeof create}`);
    return new WatermarkStrategy<T>(create, undefined, undefined);
  }

  /** Reads each record's event time (ms); `previous` is the timestamp it carried (NaN: none). */
  withTimestampAssigner(assigner: (record: T, previous: number) => number): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `withTimestampAssigner() takes a function, got ${typeof assigner}`);
    return new WatermarkStrategy<T>(this.generator, assigner, this.idlenessMs);
  }

  /** Marks the stream idle after `ms` without records, so downstream watermarks do not wait for it. */
  withIdleness(ms: number): WatermarkStrategy<T> {
    const idle = checkMs(ms, 'withIdleness()');
    if (idle === 0) throw new PlanError('PLAN_INVALID_FUNCTION', 'withIdleness() needs more than 0 ms');
    return new WatermarkStrategy<T>(this.generator, this.assigner, idle);
  }

  createTimestampAssigner(): TimestampAssigner<T> | undefined {
    return this.assigner;
  }

  createWatermarkGenerator(): WatermarkGenerator<T> {
    return this.generator();
  }
}
