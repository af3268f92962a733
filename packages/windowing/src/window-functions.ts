import type { Collector, OutputTag } from '@mobius/interface';
import type { Window } from './time-window.js';

/**
 * Incremental aggregation (Flink's AggregateFunction): a window keeps one accumulator, never its
 * records. `merge` folds two accumulators into one; session windows need it.
 */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

/**
 * Called when a window fires: `inputs` are the window's records (or the one reduced or aggregated
 * value after reduce/aggregate); emit through `out.collect`.
 */
export type WindowFunction<IN, OUT, KEY = unknown, W extends Window = Window> = (key: KEY, window: W, inputs: Iterable<IN>, out: Collector<OUT>) => void;

/** What a process window function sees besides the records. */
export interface ProcessWindowContext<W extends Window = Window> {
  /** The window that fired. */
  readonly window: W;
  /** The task's current watermark. */
  currentWatermark(): number;
  /** The task's wall clock, in ms. */
  currentProcessingTime(): number;
  /** Emits `value` to side output `tag`. */
  output<T>(tag: OutputTag<T>, value: T): void;
}

/** A window function with a context (Flink's ProcessWindowFunction): an object with `process`. */
export interface ProcessWindowFunction<IN, OUT, KEY = unknown, W extends Window = Window> {
  process(key: KEY, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
}
