import { GlobalWindow } from './time-window.js';
import { TriggerResult, type Trigger } from './trigger.js';
import type { WindowAssigner } from './window-assigner.js';

/** The default trigger of GlobalWindows: never fires (set a trigger, e.g. a count). */
class NeverTrigger implements Trigger<GlobalWindow> {
  onElement(): TriggerResult {
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
  onMerge(): void {}
  clear(): void {}
  toString(): string {
    return 'NeverTrigger()';
  }
}

/** Every record of a key in one window that never ends (Flink's GlobalWindows): fired by a trigger only. */
export class GlobalWindows implements WindowAssigner<GlobalWindow> {
  readonly isEventTime = false;
  private static readonly INSTANCE = new GlobalWindows();
  private constructor() {}

  static create(): GlobalWindows {
    return GlobalWindows.INSTANCE;
  }

  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.INSTANCE];
  }

  defaultTrigger(): Trigger<GlobalWindow> {
    return new NeverTrigger();
  }

  toString(): string {
    return 'GlobalWindows()';
  }
}
