import type { Window } from './time-window.js';
import type { Trigger } from './trigger.js';
import type { WindowAssigner } from './window-assigner.js';
import type { AggregateFunction, ProcessWindowFunction, WindowFunction } from './window-functions.js';

/** What a window keeps per key and window: one reduced value, one accumulator, or the records. */
export type WindowContentsSpec =
  | { readonly kind: 'reduce'; readonly reduce: (a: unknown, b: unknown) => unknown }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateFunction<unknown, unknown, unknown> }
  | ListContentsSpec;

/**
 * The records themselves. `keepLast` keeps only the last n records (a sliding count window:
 * Flink's CountEvictor, applied as records arrive so the state stays bounded); `fold` reduces or
 * aggregates them when the window fires (reduce and aggregate on such a window).
 */
export interface ListContentsSpec {
  readonly kind: 'list';
  readonly keepLast?: number;
  readonly fold?: { readonly kind: 'reduce'; readonly reduce: (a: unknown, b: unknown) => unknown } | { readonly kind: 'aggregate'; readonly aggregate: AggregateFunction<unknown, unknown, unknown> };
}

/**
 * The function of a `window` operator node, built by the API (`keyed.window(...).reduce(...)`)
 * and read by the runtime's window operator. It holds live functions, so it is rebuilt by the job
 * module on every worker, as every other operator function is.
 */
export interface WindowSpec {
  readonly assigner: WindowAssigner<Window>;
  /** undefined: the assigner's default trigger. */
  readonly trigger: Trigger<Window> | undefined;
  /** ms after a window's end - 1 during which late records still update (and re-fire) it. */
  readonly allowedLateness: number;
  /** The OutputTag id late records go to; undefined: they are dropped and counted. */
  readonly lateDataTag: string | undefined;
  readonly contents: WindowContentsSpec;
  /** Called on each firing; undefined: the reduced or aggregated value is emitted as it is. */
  readonly windowFunction: WindowFunction<unknown, unknown, unknown, Window> | ProcessWindowFunction<unknown, unknown, unknown, Window> | undefined;
}
