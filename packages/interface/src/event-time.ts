/**
 * Event time contracts (Flink's WatermarkStrategy, TimestampAssigner, WatermarkGenerator). The
 * `WatermarkStrategy` class users build from lives in `@mobius/api`; the runtime's timestamps
 * operator only needs these shapes.
 */

/** Reads a record's event time in milliseconds; `previous` is the timestamp it carried (NaN: none). */
export type TimestampAssigner<T> = (record: T, previous: number) => number;

/** Where a watermark generator emits. */
export interface WatermarkOutput {
  /** No record older than `watermark` will follow (a lower value than before is ignored). */
  emitWatermark(watermark: number): void;
  /** The stream is idle: downstream tasks leave it out of their watermark until it emits again. */
  markIdle(): void;
  /** The stream is active again after `markIdle` (emitting a record or a watermark does this too). */
  markActive(): void;
}

/** Makes watermarks from the events it sees (Flink's WatermarkGenerator). */
export interface WatermarkGenerator<T> {
  /** Called for each record with its timestamp; may emit a watermark (punctuated). */
  onEvent(record: T, timestamp: number, output: WatermarkOutput): void;
  /** Called every `pipeline.auto-watermark-interval.ms`; may emit a watermark (periodic). */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** What `assignTimestampsAndWatermarks(strategy)` takes (implemented by `WatermarkStrategy`). */
export interface WatermarkStrategyLike<T> {
  /** The timestamp of each record; undefined keeps the timestamp the record already carries. */
  createTimestampAssigner(): TimestampAssigner<T> | undefined;
  /** One generator per parallel task. */
  createWatermarkGenerator(): WatermarkGenerator<T>;
  /** Marks the stream idle after this many ms without records (undefined: never). */
  readonly idlenessMs?: number;
}
