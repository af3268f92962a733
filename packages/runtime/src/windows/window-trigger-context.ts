import type { KeyedStore } from '@mobius/interface';
import type { OnMergeContext, Window } from '@mobius/windowing';
import type { KeySource } from '../state/key-context.js';
import type { TimeDomain, TimerService } from '../timers/timer-service.js';
import { windowEnd, windowOf, windowStart } from './window-contents.js';

/** `[start, end, time, domain]`: a timer of one window of the current key (domain 0: event, 1: processing). */
type WindowTimer = [number, number, number, 0 | 1];
/** `[start, end, name, value]`: one named value of a trigger for one window of the current key. */
type TriggerValue = [number, number, string, unknown];

const domainFlag = (d: TimeDomain): 0 | 1 => (d === 'event' ? 0 : 1);

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
    private readonly timerStore: KeyedStore<WindowTimer[]>,
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
    const d = domainFlag(domain);
    const list = this.timerStore.get(key) ?? [];
    for (const t of list) if (t[0] === s && t[1] === e && t[2] === time && t[3] === d) return;
    list.push([s, e, time, d]);
    this.timerStore.put(key, list);
    if (domain === 'event') this.timers.registerEventTimeTimer(time);
    else this.timers.registerProcessingTimeTimer(time);
  }

  private delete(time: number, domain: TimeDomain): void {
    const key = this.keys.key();
    const list = this.timerStore.get(key);
    if (list === undefined) return;
    const w = this.window!;
    const s = windowStart(w);
    const e = windowEnd(w);
    const d = domainFlag(domain);
    const i = list.findIndex((t) => t[0] === s && t[1] === e && t[2] === time && t[3] === d);
    if (i < 0) return;
    list.splice(i, 1);
    this.save(key, list);
    if (list.some((t) => t[2] === time && t[3] === d)) return; // another window of this key still waits on it
    if (domain === 'event') this.timers.deleteEventTimeTimer(time);
    else this.timers.deleteProcessingTimeTimer(time);
  }

  /**
   * The windows of the current key that waited on the timer (`time`, `domain`) that just fired,
   * in window order (so firing order does not depend on registration order); they no longer wait.
   */
  takeFired(time: number, domain: TimeDomain): Window[] {
    const key = this.keys.key();
    const list = this.timerStore.get(key);
    if (list === undefined) return [];
    const d = domainFlag(domain);
    const fired: WindowTimer[] = [];
    const rest: WindowTimer[] = [];
    for (const t of list) (t[2] === time && t[3] === d ? fired : rest).push(t);
    if (fired.length === 0) return [];
    this.save(key, rest);
    fired.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return fired.map((t) => windowOf(t[0], t[1]));
  }

  private save<T>(key: ReturnType<KeySource['key']>, list: T[]): void {
    const store = this.timerStore as unknown as KeyedStore<T[]>;
    if (list.length === 0) store.delete(key);
    else store.put(key, list);
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
