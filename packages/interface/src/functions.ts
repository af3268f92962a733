import type { ConfigMap, ConfigValue } from './config.js';
import type { ListState, ListStateDescriptor, MapState, MapStateDescriptor, ValueState, ValueStateDescriptor } from './keyed-state.js';

/**
 * What a rich function sees of the task running it (Flink's RuntimeContext, Ray's
 * RuntimeContext): where it runs and the configuration that applies to it.
 */
export interface RuntimeContext {
  readonly jobId: string;
  readonly jobName: string;
  readonly operatorId: string;
  readonly operatorName: string;
  /** Index of this parallel task, 0-based. */
  readonly taskIndex: number;
  /** Number of parallel tasks of this operator. */
  readonly parallelism: number;
  /** Attempt number of this task, 0 for the first deployment. */
  readonly attempt: number;
  readonly maxParallelism: number;
  /** Options set on the job (`builder().option(...)`), defaults included. */
  readonly jobConfig: ConfigMap;
  /** Options set on this operator (`withConfig(...)`). */
  readonly operatorConfig: ConfigMap;
  /** The operator's value for a key if set, else the job's, else the declared default. */
  getConfig(key: string): ConfigValue | undefined;
  /**
   * Keyed state: one value per key, scoped to the key of the record being processed. Take it in
   * open() of a function on a keyed stream (after keyBy()); use it while processing records. On
   * an operator that is not keyed it throws a MobiusError with code `STATE_NOT_KEYED`.
   */
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** Keyed state: a list per key (see getState). */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** Keyed state: a map per key (see getState). */
  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>;
  /**
   * Operator state: one list per parallel task, not scoped to a key (for sources, sinks and
   * any other operator). It is checkpointed with the task and restored on recovery.
   */
  getOperatorState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /**
   * Union list state (Flink's `getUnionListState`): one list per parallel task like
   * getOperatorState, but on every restore (a rescale too) each task gets the union of every
   * task's list, e.g. every task sees all offsets and picks its share. Kept in the task snapshot.
   */
  getUnionOperatorState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /**
   * Processing time in epoch milliseconds (like `Date.now()`). Use it instead of `Date.now()`
   * in a function: with single-task failover the value is logged, and a recovered task gets the
   * same values again, so its regenerated output is identical.
   */
  now(): number;
  /** A random number in [0, 1) (like `Math.random()`), logged and replayed as {@link now} is. */
  random(): number;
}

/** Lifecycle hooks shared by every rich function. */
export interface RichFunction {
  open?(ctx: RuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Receives the records an operator emits. */
export interface Collector<T> {
  collect(record: T): void;
}

export type MapFn<I, O> = (value: I) => O;
export interface MapFunction<I, O> extends RichFunction {
  map(value: I): O;
}

/**
 * Returns an iterable of outputs, or emits them through the collector and returns nothing. An
 * async function returns a promise of its iterable (awaited in input order; see the runtime README).
 */
export type FlatMapFn<I, O> = (value: I, out: Collector<O>) => Iterable<O> | void | PromiseLike<Iterable<O> | void>;
export interface FlatMapFunction<I, O> extends RichFunction {
  flatMap(value: I, out: Collector<O>): Iterable<O> | void | PromiseLike<Iterable<O> | void>;
}

/** Keeps a record when true; an async function's promise is awaited (never taken as true). */
export type FilterFn<T> = (value: T) => boolean | PromiseLike<boolean>;
export interface FilterFunction<T> extends RichFunction {
  filter(value: T): boolean | PromiseLike<boolean>;
}

/** Extracts the key of a record. Keys are hashed over a canonical encoding (see the planner). */
export type KeySelector<T, K = unknown> = (value: T) => K;

export type ReduceFn<T> = (accumulated: T, value: T) => T;
export interface ReduceFunction<T> extends RichFunction {
  reduce(accumulated: T, value: T): T;
}

/** A sink may return a promise: the task awaits a batch's promises before taking the next batch. */
export type SinkFn<T> = (value: T) => void | Promise<void>;
export interface SinkFunction<T> extends RichFunction {
  sink(value: T): void | Promise<void>;
}

/** Chooses the target task(s) of a record among `numPartitions` (0-based indices). */
export type PartitionFn<T> = (record: T, numPartitions: number) => number | readonly number[];
export interface PartitionFunction<T> {
  partition(record: T, numPartitions: number): number | readonly number[];
}

/** What a source sees: where to emit records and how to say it has no more. */
export interface SourceContext<T> {
  readonly taskIndex: number;
  readonly parallelism: number;
  /**
   * Emits one record. Returns undefined while the output has room; returns a promise when the
   * output is full (backpressure). A `run()` source must await that promise before collecting
   * more; a `fetch()` source need not (the runtime waits between fetch calls).
   */
  collect(record: T): void | Promise<void>;
  /**
   * Emits one record with its event time in ms (Flink's `collectWithTimestamp`); backpressure as
   * `collect`. A later `assignTimestampsAndWatermarks` may replace the timestamp.
   */
  collectWithTimestamp(record: T, timestamp: number): void | Promise<void>;
  /** No record with a timestamp at or below `watermark` follows from this task (lower values are ignored). */
  emitWatermark(watermark: number): void;
  /** This task has nothing to emit for now: downstream watermarks do not wait for it until it emits again. */
  markAsTemporarilyIdle(): void;
  /** Signals the end of data: no fetch() call follows and the task ends its output. */
  end(): void;
  /** True once the job is being cancelled; a `run()` loop should return. */
  readonly cancelled: boolean;
}

/**
 * A user source (Ray's SourceFunction). Implement `fetch` (called again and again until
 * `ctx.end()`) or `run` (called once; returning means end of data).
 */
export interface SourceFunction<T> extends RichFunction {
  init?(parallelism: number, index: number): void | Promise<void>;
  fetch?(ctx: SourceContext<T>): void | Promise<void>;
  run?(ctx: SourceContext<T>): void | Promise<void>;
  /** Returns this source's offset for a checkpoint (any msgpack-able value). */
  snapshotState?(): unknown;
  /** Restores the offset returned by snapshotState. */
  restoreState?(state: unknown): void | Promise<void>;
}
