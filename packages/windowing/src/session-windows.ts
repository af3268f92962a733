import { EventTimeTrigger } from './event-time-trigger.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow } from './time-window.js';
import type { Trigger } from './trigger.js';
import { positiveMs } from './window-checks.js';
import type { MergeCallback, MergingWindowAssigner, WindowAssignerContext } from './window-assigner.js';

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
export class EventTimeSessionWindows implements MergingWindowAssigner<TimeWindow> {
  readonly isEventTime = true;

  private constructor(readonly gap: number) {}

  static withGap(gapMs: number): EventTimeSessionWindows {
    return new EventTimeSessionWindows(positiveMs('EventTimeSessionWindows.withGap', 'gap', gapMs));
  }

  assignWindows(_element: unknown, timestamp: number): TimeWindow[] {
    return [new TimeWindow(timestamp, timestamp + this.gap)];
  }

  mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    mergeTimeWindows(windows, callback);
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return EventTimeTrigger.create();
  }

  toString(): string {
    return `EventTimeSessionWindows(${this.gap})`;
  }
}

/** As EventTimeSessionWindows, by the wall clock of the task when the record arrives. */
export class ProcessingTimeSessionWindows implements MergingWindowAssigner<TimeWindow> {
  readonly isEventTime = false;

  private constructor(readonly gap: number) {}

  static withGap(gapMs: number): ProcessingTimeSessionWindows {
    return new ProcessingTimeSessionWindows(positiveMs('ProcessingTimeSessionWindows.withGap', 'gap', gapMs));
  }

  assignWindows(_element: unknown, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const now = context.currentProcessingTime();
    return [new TimeWindow(now, now + this.gap)];
  }

  mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    mergeTimeWindows(windows, callback);
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  toString(): string {
    return `ProcessingTimeSessionWindows(${this.gap})`;
  }
}
