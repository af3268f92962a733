import { EventTimeTrigger } from './event-time-trigger.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow, getWindowStartWithOffset } from './time-window.js';
import type { Trigger } from './trigger.js';
import { offsetWithin, positiveMs, slideWithin } from './window-checks.js';
import type { WindowAssigner, WindowAssignerContext } from './window-assigner.js';

/** Flink's SlidingEventTimeWindows.assignWindows: every window of `size` starting on a slide that holds `time`. */
function slidingWindows(time: number, size: number, slide: number, offset: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = getWindowStartWithOffset(time, offset, slide);
  for (let start = lastStart; start > time - size; start -= slide) windows.push(new TimeWindow(start, start + size));
  return windows;
}

function checked(call: string, sizeMs: number, slideMs: number, offsetMs: number): [number, number, number] {
  const size = positiveMs(call, 'size', sizeMs);
  const slide = slideWithin(call, size, slideMs);
  return [size, slide, offsetWithin(call, slide, offsetMs)];
}

/** Windows of `size` starting every `slide`: a record is in about size / slide windows, by its event time. */
export class SlidingEventTimeWindows implements WindowAssigner<TimeWindow> {
  readonly isEventTime = true;

  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {}

  /** `0 < slide <= size`, `|offset| < slide`. */
  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingEventTimeWindows {
    return new SlidingEventTimeWindows(...checked('SlidingEventTimeWindows.of', sizeMs, slideMs, offsetMs));
  }

  assignWindows(_element: unknown, timestamp: number): TimeWindow[] {
    return slidingWindows(timestamp, this.size, this.slide, this.offset);
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return EventTimeTrigger.create();
  }

  toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** As SlidingEventTimeWindows, by the wall clock of the task when the record arrives. */
export class SlidingProcessingTimeWindows implements WindowAssigner<TimeWindow> {
  readonly isEventTime = false;

  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {}

  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingProcessingTimeWindows {
    return new SlidingProcessingTimeWindows(...checked('SlidingProcessingTimeWindows.of', sizeMs, slideMs, offsetMs));
  }

  assignWindows(_element: unknown, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(context.currentProcessingTime(), this.size, this.slide, this.offset);
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`;
  }
}
