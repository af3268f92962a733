import { TimeWindow } from './time-window.js';
import type { MergingWindowAssigner } from './window-assigner.js';

/** How a merging window set is kept in state: `[start, end, stateStart, stateEnd]` per window. */
export type MergingWindowSetState = [number, number, number, number][];

/**
 * Called when windows merged: `mergeResult` replaces `mergedWindows`; the contents of
 * `mergedStateWindows` must be folded into `stateWindowResult` (whose contents are kept).
 */
export type MergeFunction = (mergeResult: TimeWindow, mergedWindows: readonly TimeWindow[], stateWindowResult: TimeWindow, mergedStateWindows: readonly TimeWindow[]) => void;

const idOf = (w: TimeWindow): string => `${w.start}:${w.end}`;

/**
 * The session windows of one key (Flink's MergingWindowSet). Each window maps to the window its
 * contents are stored under (its "state window"): when windows merge, the result keeps the state
 * window of one of them, so merging moves the others' contents once and never renames state.
 */
export class MergingWindowSet {
  /** window id → [window, state window] */
  private readonly mapping = new Map<string, [TimeWindow, TimeWindow]>();

  constructor(
    private readonly assigner: MergingWindowAssigner<TimeWindow>,
    state: MergingWindowSetState | undefined,
  ) {
    if (state !== undefined) for (const [s, e, ss, se] of state) this.mapping.set(`${s}:${e}`, [new TimeWindow(s, e), new TimeWindow(ss, se)]);
  }

  get size(): number {
    return this.mapping.size;
  }

  /** The window the contents of `window` are stored under, or undefined when `window` is not in the set (merged away). */
  getStateWindow(window: TimeWindow): TimeWindow | undefined {
    return this.mapping.get(idOf(window))?.[1];
  }

  /** Removes `window` (it fired and was cleaned up). */
  retireWindow(window: TimeWindow): void {
    if (!this.mapping.delete(idOf(window))) throw new Error(`window ${window.toString()} is not in the merging window set`);
  }

  /**
   * Adds `newWindow`, merges what the assigner says must merge (calling `merge` for each merge
   * that involves windows already in the set), and returns the window `newWindow` ended up in.
   */
  addWindow(newWindow: TimeWindow, merge: MergeFunction): TimeWindow {
    const windows = [...this.mapping.values()].map(([w]) => w);
    windows.push(newWindow);
    const results: [TimeWindow, TimeWindow[]][] = [];
    this.assigner.mergeWindows(windows, (toBeMerged, mergeResult) => results.push([mergeResult, [...toBeMerged]]));

    let resultWindow = newWindow;
    let mergedNewWindow = false;
    const newId = idOf(newWindow);
    for (const [mergeResult, group] of results) {
      // Remove newWindow once (as Flink's Collection.remove): an equal window may already be in the set.
      const at = group.findIndex((w) => idOf(w) === newId);
      const merged = at < 0 ? group : [...group.slice(0, at), ...group.slice(at + 1)];
      if (at >= 0) {
        mergedNewWindow = true;
        resultWindow = mergeResult;
      }
      const stateWindowResult = this.mapping.get(idOf(merged[0]))![1];
      const mergedStateWindows: TimeWindow[] = [];
      for (const w of merged) {
        const entry = this.mapping.get(idOf(w));
        this.mapping.delete(idOf(w));
        if (entry !== undefined && idOf(entry[1]) !== idOf(stateWindowResult)) mergedStateWindows.push(entry[1]);
      }
      this.mapping.set(idOf(mergeResult), [mergeResult, stateWindowResult]);
      // A merge that only grew newWindow into a window already there (same bounds) changes nothing.
      if (!(merged.length === 1 && idOf(merged[0]) === idOf(mergeResult))) merge(mergeResult, merged, stateWindowResult, mergedStateWindows);
    }
    if (results.length === 0 || (!mergedNewWindow && idOf(resultWindow) === newId)) this.mapping.set(newId, [resultWindow, resultWindow]);
    return resultWindow;
  }

  /** The set as plain data for keyed state. */
  toState(): MergingWindowSetState {
    const out: MergingWindowSetState = [];
    for (const [w, s] of this.mapping.values()) out.push([w.start, w.end, s.start, s.end]);
    return out;
  }
}
