import { MobiusError } from './errors.js';
import type { Collector, RichFunction } from './functions.js';
import type { MapStateDescriptor } from './keyed-state.js';
import type { OutputTag } from './output-tag.js';

/**
 * Process functions (Flink's ProcessFunction family): the lowest-level operators, with the
 * record's event time, timers, side outputs and (on keyed streams) keyed state. Each function is
 * an object; it may be a rich function (`open(runtimeContext)` takes keyed state handles).
 */

/** Codes of {@link ProcessError}. */
export type ProcessErrorCode =
  /** A timer registered on a stream without keyBy. */
  | 'PROCESS_NO_TIMERS'
  /** A timer time that is not a number, a broadcast state descriptor without a name. */
  | 'PROCESS_INVALID_ARGUMENT'
  /** A write to broadcast state from the non-broadcast side. */
  | 'BROADCAST_STATE_READ_ONLY'
  /** A record without an event time reached an interval join. */
  | 'INTERVAL_JOIN_NO_TIMESTAMP';

/** A process function, broadcast state or interval join was misused: the message names the operator. */
export class ProcessError extends MobiusError {
  constructor(code: ProcessErrorCode, message: string) {
    super(code, message);
  }
}

/** Which clock fired a timer: the watermark ('event') or the wall clock ('processing'). */
export type TimeDomain = 'event' | 'processing';

/** Timers of the current key (Flink's TimerService). At most one timer per key, time and domain. */
export interface TimerService {
  /** The operator's current input watermark (-Infinity before the first). */
  currentWatermark(): number;
  /** The wall clock in ms. */
  currentProcessingTime(): number;
  /** `onTimer(ms)` runs once the watermark reaches `ms`. */
  registerEventTimeTimer(ms: number): void;
  /** `onTimer(ms)` runs once the wall clock reaches `ms`. */
  registerProcessingTimeTimer(ms: number): void;
  deleteEventTimeTimer(ms: number): void;
  deleteProcessingTimeTimer(ms: number): void;
}

/** What `processElement` gets besides the record. */
export interface ProcessContext {
  /** The record's event time in ms, or `undefined` when it has none. */
  timestamp(): number | undefined;
  /** Timers (keyed streams only: on a stream without keyBy, registering one is a PLAN_NOT_KEYED error). */
  timerService(): TimerService;
  /** Emits `value` to side output `tag` (read with `result.getSideOutput(tag)`), with the current timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** The context on a keyed stream: also the current key. */
export interface KeyedProcessContext<K> extends ProcessContext {
  getCurrentKey(): K;
}

/** The context of `onTimer`: the timer's key is current, and `timeDomain()` says which clock fired. */
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): TimeDomain;
}

/** `stream.process(fn)` on a stream without keyBy: no timers, side outputs work. */
export interface ProcessFunction<I, O> extends RichFunction {
  processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
}

/** `keyed.process(fn)`: timers per key, keyed state, side outputs. */
export interface KeyedProcessFunction<K, I, O> extends RichFunction {
  processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** `a.connect(b).process(fn)` without keys: one method per input. */
export interface CoProcessFunction<I1, I2, O> extends RichFunction {
  processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
}

/** `a.connect(b).keyBy(keyA, keyB).process(fn)`: one method per input, timers and keyed state of the shared key. */
export interface KeyedCoProcessFunction<K, I1, I2, O> extends RichFunction {
  processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** Broadcast state as the non-broadcast side sees it: read-only (a write is a BROADCAST_STATE_READ_ONLY error). */
export interface ReadOnlyBroadcastState<K, V> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
}

/** Broadcast state as `processBroadcastElement` sees it: writable, the same in every task. */
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  remove(key: K): void;
  clear(): void;
}

/** The context of `processElement` on the non-broadcast side. */
export interface ReadOnlyBroadcastContext extends ProcessContext {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** The context of `processBroadcastElement`. */
export interface BroadcastContext {
  timestamp(): number | undefined;
  output<X>(tag: OutputTag<X>, value: X): void;
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/** `a.connect(b.broadcast(descriptor)).process(fn)`. */
export interface BroadcastProcessFunction<I, B, O> extends RichFunction {
  processElement(value: I, ctx: ReadOnlyBroadcastContext, out: Collector<O>): void;
  processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
}

/** The read-only side of a keyed broadcast process function: also the key and timers. */
export interface KeyedReadOnlyBroadcastContext<K> extends ReadOnlyBroadcastContext, KeyedProcessContext<K> {}

/** `onTimer` of a keyed broadcast process function. */
export interface KeyedBroadcastOnTimerContext<K> extends KeyedReadOnlyBroadcastContext<K> {
  timeDomain(): TimeDomain;
}

/** `a.keyBy(k).connect(b.broadcast(descriptor)).process(fn)`. */
export interface KeyedBroadcastProcessFunction<K, I, B, O> extends RichFunction {
  processElement(value: I, ctx: KeyedReadOnlyBroadcastContext<K>, out: Collector<O>): void;
  processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<O>): void;
}

/** The context of an interval join's function: the two records' timestamps and the output's (the larger). */
export interface IntervalJoinContext {
  leftTimestamp(): number;
  rightTimestamp(): number;
  timestamp(): number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** `a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)`: called once per matching pair. */
export type IntervalJoinFn<L, R, O> = (left: L, right: R, ctx: IntervalJoinContext, out: Collector<O>) => void;
