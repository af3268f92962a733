import { OutputTag, PlanError, type PartitionSpec, type ReduceFn } from '@mobius/interface';
import {
  CountTrigger,
  GlobalWindows,
  PurgingTrigger,
  isMergingAssigner,
  type AggregateFunction,
  type GlobalWindow,
  type ProcessWindowFunction,
  type Trigger,
  type Window,
  type WindowAssigner,
  type WindowContentsSpec,
  type WindowFunction,
  type WindowSpec,
} from '@mobius/windowing';
import { DataStream, type KeyedStream, type StreamUpstream } from './data-stream.js';
import { checkEventTime } from './event-time-check.js';

/** A window function or a process window function: what reduce and aggregate take after the reducer. */
export type WindowFunctionLike<IN, OUT, KEY, W extends Window> = WindowFunction<IN, OUT, KEY, W> | ProcessWindowFunction<IN, OUT, KEY, W>;

function checkWindowFunction(fn: unknown, method: string): void {
  if (fn === undefined || typeof fn === 'function') return;
  if (typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>).process === 'function') return;
  throw new PlanError('PLAN_INVALID_FUNCTION', `${method}() takes as window function a function (key, window, inputs, out) or an object with a process(key, context, elements, out) method, got ${fn === null ? 'null' : typeof fn}`);
}

/**
 * A keyed stream cut into windows (Flink's WindowedStream): set lateness, a late-data side output
 * or a trigger, then end with `reduce`, `aggregate` or `process`. Windows fire on their trigger
 * (by default when the watermark, or the clock, reaches `end - 1`); results carry the timestamp
 * `end - 1`. See the package README for what state each terminal keeps.
 */
export class WindowedStream<T, K = unknown, W extends Window = Window> {
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined = undefined;
  private customTrigger: Trigger<W> | undefined = undefined;

  constructor(
    private readonly input: StreamUpstream,
    private readonly assigner: WindowAssigner<W>,
    /** windowAll: one task sees every record (the input is keyed by a constant). */
    private readonly all: boolean,
    /** Sliding count windows: keep only the last n records of a window (then reduce/aggregate fold them when it fires). */
    private readonly keepLast: number | undefined = undefined,
  ) {
    if (typeof assigner !== 'object' || assigner === null || typeof assigner.assignWindows !== 'function') {
      throw new PlanError('PLAN_INVALID_WINDOW', `window() takes a window assigner (e.g. TumblingEventTimeWindows.of(60_000)), got ${assigner === null ? 'null' : typeof assigner}`);
    }
    if (assigner.isEventTime) checkEventTime(input, `window(${assigner.toString()})`);
  }

  /** Records up to `ms` after a window's end - 1 still update it and fire it again; later ones are late. */
  allowedLateness(ms: number): this {
    if (typeof ms !== 'number' || !(ms >= 0)) throw new PlanError('PLAN_INVALID_WINDOW', `allowedLateness() takes a number of milliseconds >= 0, got ${String(ms)}`);
    this.lateness = ms;
    return this;
  }

  /** Sends late records to side output `tag` (read with `result.getSideOutput(tag)`) instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    if (!(tag instanceof OutputTag)) throw new PlanError('PLAN_INVALID_FUNCTION', `sideOutputLateData() takes an OutputTag, got ${tag === null ? 'null' : typeof tag}`);
    this.lateTag = tag;
    return this;
  }

  /** Replaces the assigner's default trigger (e.g. `CountTrigger.of(100)`, `PurgingTrigger.of(...)`). */
  trigger(trigger: Trigger<W>): this {
    if (typeof trigger !== 'object' || trigger === null || typeof trigger.onElement !== 'function') {
      throw new PlanError('PLAN_INVALID_WINDOW', `trigger() takes a Trigger, got ${trigger === null ? 'null' : typeof trigger}`);
    }
    if (isMergingAssigner(this.assigner) && !trigger.canMerge()) {
      throw new PlanError('PLAN_INVALID_WINDOW', `trigger ${trigger.toString()} cannot merge windows, so it cannot be used with the merging assigner ${this.assigner.toString()}`);
    }
    this.customTrigger = trigger;
    return this;
  }

  /** Folds each window's records into one value (one value kept per key and window); emits it, or hands it to `windowFn`. */
  reduce(fn: ReduceFn<T>, windowFn?: WindowFunctionLike<T, T, K, W>): DataStream<T>;
  reduce<O>(fn: ReduceFn<T>, windowFn: WindowFunctionLike<T, O, K, W>): DataStream<O>;
  reduce<O>(fn: ReduceFn<T>, windowFn?: WindowFunctionLike<T, O, K, W>): DataStream<O> {
    if (typeof fn !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `reduce() takes a function (a, b) => value, got ${fn === null ? 'null' : typeof fn}`);
    checkWindowFunction(windowFn, 'reduce');
    return this.build('reduce', { kind: 'reduce', reduce: fn as (a: unknown, b: unknown) => unknown }, windowFn);
  }

  /**
   * Aggregates each window incrementally (one accumulator per key and window); emits
   * `getResult(acc)`, or hands it to `windowFn`. Session windows need the function's `merge`.
   */
  aggregate<ACC, R>(fn: AggregateFunction<T, ACC, R>): DataStream<R>;
  aggregate<ACC, R, O>(fn: AggregateFunction<T, ACC, R>, windowFn: WindowFunctionLike<R, O, K, W>): DataStream<O>;
  aggregate<ACC, R, O>(fn: AggregateFunction<T, ACC, R>, windowFn?: WindowFunctionLike<R, O, K, W>): DataStream<O> {
    const ok = typeof fn === 'object' && fn !== null && ['createAccumulator', 'add', 'getResult'].every((m) => typeof (fn as unknown as Record<string, unknown>)[m] === 'function');
    if (!ok) throw new PlanError('PLAN_INVALID_FUNCTION', 'aggregate() takes an AggregateFunction: an object with createAccumulator(), add(value, acc) and getResult(acc) (and merge(a, b) for session windows)');
    if (isMergingAssigner(this.assigner) && typeof fn.merge !== 'function') {
      throw new PlanError('PLAN_INVALID_WINDOW', `aggregate() on merging windows (${this.assigner.toString()}) needs an AggregateFunction with merge(a, b): merging sessions folds their accumulators together`);
    }
    checkWindowFunction(windowFn, 'aggregate');
    return this.build('aggregate', { kind: 'aggregate', aggregate: fn as unknown as AggregateFunction<unknown, unknown, unknown> }, windowFn);
  }

  /** Calls `fn.process(key, context, elements, out)` with all the records of each window that fires (kept until then). */
  process<O>(fn: ProcessWindowFunction<T, O, K, W>): DataStream<O> {
    if (typeof fn !== 'object' || fn === null || typeof fn.process !== 'function') {
      throw new PlanError('PLAN_INVALID_FUNCTION', `process() takes a ProcessWindowFunction: an object with process(key, context, elements, out), got ${fn === null ? 'null' : typeof fn}`);
    }
    return this.build('process', { kind: 'list' }, fn);
  }

  /** Calls `fn(key, window, inputs, out)` with all the records of each window that fires (Flink's apply). */
  apply<O>(fn: WindowFunction<T, O, K, W>): DataStream<O> {
    if (typeof fn !== 'function') throw new PlanError('PLAN_INVALID_FUNCTION', `apply() takes a function (key, window, inputs, out), got ${fn === null ? 'null' : typeof fn}`);
    return this.build('apply', { kind: 'list' }, fn);
  }

  private build<O>(what: string, folded: WindowContentsSpec, windowFn: unknown): DataStream<O> {
    const keepLast = this.keepLast;
    const contents: WindowContentsSpec = keepLast === undefined ? folded : folded.kind === 'list' ? { kind: 'list', keepLast } : { kind: 'list', keepLast, fold: folded };
    const spec: WindowSpec = {
      assigner: this.assigner as WindowAssigner<Window>,
      trigger: this.customTrigger as Trigger<Window> | undefined,
      allowedLateness: this.lateness,
      lateDataTag: this.lateTag?.id,
      contents,
      windowFunction: windowFn as WindowSpec['windowFunction'],
    };
    const { graph, node: from, partition, sideOutput } = this.input;
    const node = graph.addNode('window', `${this.all ? 'windowAll' : 'window'} ${what}`, spec);
    graph.addEdge(from, node, partition, sideOutput);
    if (this.all) node.parallelism = 1;
    return new DataStream<O>(graph, node);
  }
}

/** The partitioning of windowAll: every record has the key 0, so one task holds every window. */
const ALL_IN_ONE: PartitionSpec = { kind: 'key', keySelector: () => 0, explicit: true };

/** `keyed.window(assigner)`. */
export function keyedWindow<T, K, W extends Window>(keyed: KeyedStream<T, K>, assigner: WindowAssigner<W>): WindowedStream<T, K, W> {
  return new WindowedStream<T, K, W>(keyed.upstream, assigner, false);
}

/**
 * `keyed.countWindow(n)`: windows of n records per key (GlobalWindows fired and purged every n
 * records). `countWindow(n, slide)`: every `slide` records, the last n (Flink's CountEvictor and
 * CountTrigger; the window keeps n records, so reduce and aggregate fold them when it fires).
 */
export function countWindow<T, K>(keyed: KeyedStream<T, K>, size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
  if (slide === undefined) return keyedWindow(keyed, GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(size)));
  if (!Number.isInteger(size) || size <= 0 || !Number.isInteger(slide) || slide <= 0 || slide > size) {
    throw new PlanError('PLAN_INVALID_WINDOW', `countWindow(n, slide) takes whole counts with 0 < slide <= n, got n ${String(size)}, slide ${String(slide)}`);
  }
  return new WindowedStream<T, K, GlobalWindow>(keyed.upstream, GlobalWindows.create(), false, size).trigger(CountTrigger.of(slide));
}

/** `stream.windowAll(assigner)`: the window operator at parallelism 1 behind a constant key. */
export function windowAll<T, W extends Window>(stream: DataStream<T>, assigner: WindowAssigner<W>): WindowedStream<T, number, W> {
  const { graph, node, sideOutput } = stream.upstream;
  return new WindowedStream<T, number, W>({ graph, node, partition: ALL_IN_ONE, sideOutput }, assigner, true);
}

/** `stream.countWindowAll(n)`. */
export function countWindowAll<T>(stream: DataStream<T>, size: number): WindowedStream<T, number, GlobalWindow> {
  return windowAll(stream, GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(size)));
}
