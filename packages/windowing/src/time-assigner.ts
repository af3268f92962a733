import { EventTimeTrigger } from './event-time-trigger.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import type { TimeWindow } from './time-window.js';
import type { Trigger } from './trigger.js';
import type { WindowAssigner, WindowAssignerContext } from './window-assigner.js';

/**
 * What the event-time and processing-time variant of an assigner share: they assign the same
 * windows, by the record's timestamp or by the clock, and fire on the matching trigger.
 */
export abstract class TimeAssigner implements WindowAssigner<TimeWindow> {
  protected constructor(
    readonly isEventTime: boolean,
    private readonly label: string,
  ) {}

  /** The windows holding `time`. */
  protected abstract windowsAt(time: number): TimeWindow[];

  assignWindows(_element: unknown, timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    return this.windowsAt(this.isEventTime ? timestamp : context.currentProcessingTime());
  }

  defaultTrigger(): Trigger<TimeWindow> {
    return this.isEventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create();
  }

  toString(): string {
    return this.label;
  }
}
