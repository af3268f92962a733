import type { TimeWindow, Window } from './time-window.js';
import { TriggerResult, type OnMergeContext, type Trigger, type TriggerContext } from './trigger.js';

/**
 * Fires a window once the watermark passes its `maxTimestamp()` (Flink's EventTimeTrigger), and
 * again for each record that arrives while the window is late but within its allowed lateness.
 */
export class EventTimeTrigger implements Trigger<Window> {
  private static readonly INSTANCE = new EventTimeTrigger();
  private constructor() {}

  static create(): EventTimeTrigger {
    return EventTimeTrigger.INSTANCE;
  }

  onElement(_element: unknown, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.currentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }

  onEventTime(time: number, window: Window): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE;
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window | TimeWindow, ctx: OnMergeContext): void {
    // A merged window already behind the watermark fires on the next record or timer, as in Flink.
    if (window.maxTimestamp() > ctx.currentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  toString(): string {
    return 'EventTimeTrigger()';
  }
}
