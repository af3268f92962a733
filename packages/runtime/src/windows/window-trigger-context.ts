import type { KeyedStore, StateKey } from '@mobius/interface';
import type { OnMergeContext, Window } from '@mobius/windowing';
import type { KeySource } from '../state/key-context.js';
import type { TimeDomain, TimerService } from '../timers/timer-service.js';
import { windowEnd, windowOf, windowStart } from './window-contents.js';

/**
 * The timers the windows of one key wait on, by timer: `'e' + time` (event time) or `'p' + time`
 * (processing time) → the `[start, end]` of each window waiting on it. A firing timer finds its
 * windows in one lookup, and registering checks only the windows of that timer.
 */
type WindowTimers = Record<string, [number, number][]>;
/** `[start, end, name, value]`: one named value of a trigger for one window of the current key. */
type TriggerValue = [number, number, string, unknown];

const timerKey = (time: number, d: TimeDomain): string => (d === 'event' ? 'e' : 'p') + time;

/**
 * The trigger context of a window operator, reused for every call (its `window` is set before
 * each): timers and trigger state per (key, window) in keyed state. The task's timer service
 * knows timers per (key, time) only, so the windows waiting on each timer are kept here, in the
 * store 'window-timers'; a timer of the service is deleted when no window of its key waits on it.
 */
export class WindowTriggerContext implements OnMergeContext {
  window: Window | undefined = undefined;
  /** The windows being merged into `window` (during onMerge only). */
  mergedWindows: readonly Window[] = [];

  constructor(
    private readonly keys: KeySource,
    private readonly timers: TimerService,
    private readonly timerStore: KeyedStore<WindowTimers>,
    private readonly stateStore: KeyedStore<TriggerValue[]>,
    private readonly watermark: () => number,
    private readonly now: () => number,
  ) {}

  currentWatermark(): number {
    return this.watermark();
  }

  currentProcessingTime(): number {
    return this.now();
  }

  registerEventTimeTimer(time: number): void {
    this.register(time, 'event');
  }

  registerProcessingTimeTimer(time: number): void {
    this.register(time, 'processing');
  }

  deleteEventTimeTimer(time: number): void {
    this.delete(time, 'event');
  }

  deleteProcessingTimeTimer(time: number): void {
    this.delete(time, 'processing');
  }

  private register(time: number, domain: TimeDomain): void {
    const key = this.keys.key();
    const w = this.window!;
    const s = windowStart(w);
    const e = windowEnd(w);
    const id = timerKey(time, domain);
    const timers = this.timerStore.get(key) ?? {};
    const waiting = timers[id];
    if (waiting === undefined) timers[id] = [[s, e]];
    else {
      for (let i = 0; i < waiting.length; i++) if (waiting[i][0] === s && waiting[i][1] === e) return;
      waiting.push([s, e]);
    }
    this.timerStore.put(key, timers);
    if (domain === 'event') this.timers.registerEventTimeTimer(time);
    else this.timers.registerProcessingTimeTimer(time);
  }

  private delete(time: number, domain: TimeDomain): void {
    const key = this.keys.key();
    const timers = this.timerStore.get(key);
    const id = timerKey(time, domain);
    const waiting = timers?.[id];
    if (waiting === undefined) return;
    const w = this.window!;
    const s = windowStart(w);
    const e = windowEnd(w);
    let i = 0;
    while (i < waiting.length && !(waiting[i][0] === s && waiting[i][1] === e)) i++;
    if (i === waiting.length) return;
    waiting.splice(i, 1);
    if (waiting.length > 0) {
      this.timerStore.put(key, timers!); // another window of this key still waits on the timer
      return;
    }
    this.remove(key, timers!, id);
    if (domain === 'event') this.timers.deleteEventTimeTimer(time);
    else this.timers.deleteProcessingTimeTimer(time);
  }

  private remove(key: StateKey, timers: WindowTimers, id: string): void {
    delete timers[id];
    for (const _ in timers) {
      this.timerStore.put(key, timers);
      return;
    }
    this.timerStore.delete(key);
  }

  /**
   * The windows of the current key that waited on the timer (`time`, `domain`) that just fired,
   * in window order (so firing order does not depend on registration order); they no longer wait.
   */
  takeFired(time: number, domain: TimeDomain): Window[] {
    const key = this.keys.key();
    const timers = this.timerStore.get(key);
    const id = timerKey(time, domain);
    const waiting = timers?.[id];
    if (waiting === undefined) return [];
    this.remove(key, timers!, id);
    waiting.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return waiting.map((w) => windowOf(w[0], w[1]));
  }

  getState<T>(name: string): T | undefined {
    const list = this.stateStore.get(this.keys.key());
    if (list === undefined) return undefined;
    const i = this.stateIndex(list, this.window!, name);
    return i < 0 ? undefined : (list[i][3] as T);
  }

  setState<T>(name: string, value: T): void {
    const key = this.keys.key();
    const list = this.stateStore.get(key) ?? [];
    const w = this.window!;
    const i = this.stateIndex(list, w, name);
    if (i < 0) list.push([windowStart(w), windowEnd(w), name, value]);
    else list[i][3] = value;
    this.stateStore.put(key, list);
  }

  clearState(name: string): void {
    const key = this.keys.key();
    const list = this.stateStore.get(key);
    if (list === undefined) return;
    const i = this.stateIndex(list, this.window!, name);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.stateStore.delete(key);
    else this.stateStore.put(key, list);
  }

  mergeState<T>(name: string, merge: (a: T, b: T) => T): void {
    const list = this.stateStore.get(this.keys.key());
    if (list === undefined) return;
    let acc = this.getState<T>(name);
    for (const m of this.mergedWindows) {
      const i = this.stateIndex(list, m, name);
      if (i < 0) continue;
      const v = list[i][3] as T;
      acc = acc === undefined ? v : merge(acc, v);
    }
    if (acc !== undefined) this.setState(name, acc);
  }

  private stateIndex(list: TriggerValue[], w: Window, name: string): number {
    const s = windowStart(w);
    const e = windowEnd(w);
    for (let i = 0; i < list.length; i++) if (list[i][0] === s && list[i][1] === e && list[i][2] === name) return i;
    return -1;
  }
}
