import { PlanError } from '@mobius/interface';
import type { Window } from './time-window.js';
import { TriggerResult, type OnMergeContext, type Trigger, type TriggerContext } from './trigger.js';

const COUNT = 'count';
const sum = (a: number, b: number): number => a + b;

/** Fires a window every `n` records (Flink's CountTrigger); the count is per key and window, in keyed state. */
export class CountTrigger implements Trigger<Window> {
  private constructor(readonly maxCount: number) {}

  static of(n: number): CountTrigger {
    if (!Number.isInteger(n) || n <= 0) throw new PlanError('PLAN_INVALID_WINDOW', `CountTrigger.of(n) needs a positive whole count, got ${n}`);
    return new CountTrigger(n);
  }

  onElement(_element: unknown, _timestamp: number, _window: Window, ctx: TriggerContext): TriggerResult {
    const count = (ctx.getState<number>(COUNT) ?? 0) + 1;
    if (count >= this.maxCount) {
      ctx.clearState(COUNT);
      return TriggerResult.FIRE;
    }
    ctx.setState(COUNT, count);
    return TriggerResult.CONTINUE;
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(_window: Window, ctx: OnMergeContext): void {
    ctx.mergeState(COUNT, sum);
  }

  clear(_window: Window, ctx: TriggerContext): void {
    ctx.clearState(COUNT);
  }

  toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}
