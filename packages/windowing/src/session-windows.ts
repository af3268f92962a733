import { TimeAssigner } from './time-assigner.js';
import { TimeWindow } from './time-window.js';
import { positiveMs } from './window-checks.js';
import type { MergeCallback, MergingWindowAssigner } from './window-assigner.js';

/**
 * Flink's TimeWindow.mergeWindows: sorted by start, windows that overlap or touch
 * (`a.start <= b.end && a.end >= b.start`) form one group; each group of two or more is reported.
 */
export function mergeTimeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  let cover: TimeWindow | undefined;
  let group: TimeWindow[] = [];
  const flush = (): void => {
    if (cover !== undefined && group.length > 1) callback(group, cover);
  };
  for (const w of sorted) {
    if (cover !== undefined && cover.intersects(w)) {
      cover = cover.cover(w);
      group.push(w);
    } else {
      flush();
      cover = w;
      group = [w];
    }
  }
  flush();
}

/** A session per key: each record opens `[t, t + gap)`, and sessions that touch or overlap merge. */
abstract class SessionWindows extends TimeAssigner implements MergingWindowAssigner<TimeWindow> {
  protected constructor(
    isEventTime: boolean,
    call: string,
    readonly gap: number,
  ) {
    super(isEventTime, `${call.split('.')[0]}(${gap})`);
  }

  protected windowsAt(time: number): TimeWindow[] {
    return [new TimeWindow(time, time + this.gap)];
  }

  mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    mergeTimeWindows(windows, callback);
  }
}

/** Sessions by event time. */
export class EventTimeSessionWindows extends SessionWindows {
  private constructor(gap: number) {
    super(true, 'EventTimeSessionWindows.withGap', gap);
  }

  static withGap(gapMs: number): EventTimeSessionWindows {
    return new EventTimeSessionWindows(positiveMs('EventTimeSessionWindows.withGap', 'gap', gapMs));
  }
}

/** Sessions by the wall clock of the task when the record arrives. */
export class ProcessingTimeSessionWindows extends SessionWindows {
  private constructor(gap: number) {
    super(false, 'ProcessingTimeSessionWindows.withGap', gap);
  }

  static withGap(gapMs: number): ProcessingTimeSessionWindows {
    return new ProcessingTimeSessionWindows(positiveMs('ProcessingTimeSessionWindows.withGap', 'gap', gapMs));
  }
}
