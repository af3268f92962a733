import { EventTimeTrigger } from './event-time-trigger.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow, getWindowStartWithOffset } from './time-window.js';
import type { Trigger } from './trigger.js';
import { offsetWithin, positiveMs } from './window-checks.js';
import type { WindowAssigner, WindowAssignerContext } from './window-assigner.js';

/** Windows of a fixed size that do not overlap: each record is in exactly one, by its event time. */
export class TumblingEventTimeWindows implements WindowAssigner<TimeWindow> {
  readonly isEventTime = true;

  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {}

  /** Windows `[k * size + offset, (k + 1) * size + offset)`; `|offset| < size` (e.g. a time zone shift). */
  static of(sizeMs: number, offsetMs = 0): TumblingEventTimeWindows {
    const size = positiveMs('TumblingEventTimeWindows.of', 'size', sizeMs);
    return new TumblingEventTimeWindows(size, offsetWithin('TumblingEventTimeWindows.of', size, offsetMs));
  }

  assignWindows(_element: unknown, timestamp: number): TimeWindow[] {
    const start = getWindowStartWithOffset(timestamp, this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return EventTimeTrigger.create();
  }

  toString(): string {
    return `TumblingEventTimeWindows(${this.size})`;
  }
}

/** As TumblingEventTimeWindows, by the wall clock of the task when the record arrives. */
export class TumblingProcessingTimeWindows implements WindowAssigner<TimeWindow> {
  readonly isEventTime = false;

  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {}

  static of(sizeMs: number, offsetMs = 0): TumblingProcessingTimeWindows {
    const size = positiveMs('TumblingProcessingTimeWindows.of', 'size', sizeMs);
    return new TumblingProcessingTimeWindows(size, offsetWithin('TumblingProcessingTimeWindows.of', size, offsetMs));
  }

  assignWindows(_element: unknown, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const start = getWindowStartWithOffset(context.currentProcessingTime(), this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`;
  }
}
