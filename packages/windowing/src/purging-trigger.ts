import type { Window } from './time-window.js';
import { TriggerResult, type OnMergeContext, type Trigger, type TriggerContext } from './trigger.js';

const purging = (r: TriggerResult): TriggerResult => (r === TriggerResult.FIRE ? TriggerResult.FIRE_AND_PURGE : r);

/** Turns every FIRE of the trigger it wraps into FIRE_AND_PURGE (Flink's PurgingTrigger). */
export class PurgingTrigger<W extends Window = Window> implements Trigger<W> {
  private constructor(readonly nested: Trigger<W>) {}

  static of<W extends Window>(nested: Trigger<W>): PurgingTrigger<W> {
    return new PurgingTrigger(nested);
  }

  onElement(element: unknown, timestamp: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onElement(element, timestamp, window, ctx));
  }

  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onEventTime(time, window, ctx));
  }

  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nested.onProcessingTime(time, window, ctx));
  }

  canMerge(): boolean {
    return this.nested.canMerge();
  }

  onMerge(window: W, ctx: OnMergeContext): void {
    this.nested.onMerge?.(window, ctx);
  }

  clear(window: W, ctx: TriggerContext): void {
    this.nested.clear(window, ctx);
  }

  toString(): string {
    return `PurgingTrigger(${this.nested.toString()})`;
  }
}
