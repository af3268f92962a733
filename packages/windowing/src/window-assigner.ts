import type { Window } from './time-window.js';
import type { Trigger } from './trigger.js';

/** What an assigner may read when it assigns a record. */
export interface WindowAssignerContext {
  /** The wall clock of the task, in ms (processing-time assigners assign by it). */
  currentProcessingTime(): number;
}

/**
 * Puts each record in zero or more windows (Flink's WindowAssigner). `timestamp` is the record's
 * event time (NaN when it has none: the window operator refuses that for an event-time assigner).
 */
export interface WindowAssigner<W extends Window = Window> {
  assignWindows(element: unknown, timestamp: number, context: WindowAssignerContext): W[];
  /** The trigger used when the user sets none. */
  defaultTrigger(): Trigger<W>;
  /** True when windows end on the watermark (event time), false on the wall clock. */
  readonly isEventTime: boolean;
  /** A name for plans and errors. */
  toString(): string;
}

/** Receives the result of merging windows (Flink's MergingWindowAssigner.MergeCallback). */
export type MergeCallback<W extends Window> = (toBeMerged: readonly W[], mergeResult: W) => void;

/** An assigner whose windows merge (sessions): `mergeWindows` reports each group of windows to merge. */
export interface MergingWindowAssigner<W extends Window = Window> extends WindowAssigner<W> {
  mergeWindows(windows: readonly W[], callback: MergeCallback<W>): void;
}

export function isMergingAssigner<W extends Window>(a: WindowAssigner<W>): a is MergingWindowAssigner<W> {
  return typeof (a as Partial<MergingWindowAssigner<W>>).mergeWindows === 'function';
}
