import type { Window } from './time-window.js';

/** What a trigger decides (Flink's TriggerResult). */
export enum TriggerResult {
  CONTINUE = 'CONTINUE',
  FIRE = 'FIRE',
  PURGE = 'PURGE',
  FIRE_AND_PURGE = 'FIRE_AND_PURGE',
}

export function isFire(r: TriggerResult): boolean {
  return r === TriggerResult.FIRE || r === TriggerResult.FIRE_AND_PURGE;
}

export function isPurge(r: TriggerResult): boolean {
  return r === TriggerResult.PURGE || r === TriggerResult.FIRE_AND_PURGE;
}

/**
 * What a trigger may do for the window it is asked about (the current key is set): read the
 * clocks, register or delete timers of that window, and keep state of its own per window.
 * State lives in the task's keyed state, so it is checkpointed and moves with its key group.
 */
export interface TriggerContext {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** The trigger's state `name` of this window (undefined: none). Values must be plain data. */
  getState<T>(name: string): T | undefined;
  setState<T>(name: string, value: T): void;
  clearState(name: string): void;
}

/** In `onMerge`: the context of the merged window, which can fold the merged windows' state into its own. */
export interface OnMergeContext extends TriggerContext {
  /** Sets this window's state `name` to the merged windows' values folded with `merge` (none: left unset). */
  mergeState<T>(name: string, merge: (a: T, b: T) => T): void;
}

/**
 * Decides when a window fires and when it is purged (Flink's Trigger). Each method is called
 * with the key of the window current; a trigger object is shared by all windows and keys, so it
 * keeps what it counts in the context's state, never in its own fields.
 */
export interface Trigger<W extends Window = Window> {
  onElement(element: unknown, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** True when the trigger works on merging windows (it implements `onMerge`). */
  canMerge(): boolean;
  onMerge?(window: W, ctx: OnMergeContext): void;
  /** The window is gone: delete its timers and state. */
  clear(window: W, ctx: TriggerContext): void;
  toString(): string;
}
