import { describe, expect, it } from 'vitest';
import { CountTrigger } from './count-trigger.js';
import { EventTimeTrigger } from './event-time-trigger.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { PurgingTrigger } from './purging-trigger.js';
import { TimeWindow } from './time-window.js';
import { TriggerResult, type OnMergeContext, type Trigger } from './trigger.js';
import type { Window } from './time-window.js';

/** A trigger context over plain maps, recording timers; `merged` feeds mergeState. */
class FakeContext implements OnMergeContext {
  watermark = -Infinity;
  now = 0;
  readonly eventTimers = new Set<number>();
  readonly processingTimers = new Set<number>();
  readonly state = new Map<string, unknown>();
  merged: Map<string, unknown>[] = [];
  currentWatermark = () => this.watermark;
  currentProcessingTime = () => this.now;
  registerEventTimeTimer = (t: number) => void this.eventTimers.add(t);
  deleteEventTimeTimer = (t: number) => void this.eventTimers.delete(t);
  registerProcessingTimeTimer = (t: number) => void this.processingTimers.add(t);
  deleteProcessingTimeTimer = (t: number) => void this.processingTimers.delete(t);
  getState = <T>(name: string) => this.state.get(name) as T | undefined;
  setState = <T>(name: string, v: T) => void this.state.set(name, v);
  clearState = (name: string) => void this.state.delete(name);
  mergeState<T>(name: string, merge: (a: T, b: T) => T): void {
    let acc = this.state.get(name) as T | undefined;
    for (const m of this.merged) if (m.has(name)) acc = acc === undefined ? (m.get(name) as T) : merge(acc, m.get(name) as T);
    if (acc !== undefined) this.state.set(name, acc);
  }
}

const w = new TimeWindow(0, 10);

describe('EventTimeTrigger', () => {
  it('registers a timer at end - 1 and fires on it; fires at once when the window is already past the watermark', () => {
    const t: Trigger<Window> = EventTimeTrigger.create();
    const ctx = new FakeContext();
    expect(t.onElement(1, 3, w, ctx)).toBe(TriggerResult.CONTINUE);
    expect([...ctx.eventTimers]).toEqual([9]);
    expect(t.onEventTime(8, w, ctx)).toBe(TriggerResult.CONTINUE);
    expect(t.onEventTime(9, w, ctx)).toBe(TriggerResult.FIRE);
    expect(t.onProcessingTime(9, w, ctx)).toBe(TriggerResult.CONTINUE);
    ctx.watermark = 9;
    expect(t.onElement(1, 3, w, ctx)).toBe(TriggerResult.FIRE);
    t.clear(w, ctx);
    expect(ctx.eventTimers.size).toBe(0);
  });
});

describe('ProcessingTimeTrigger', () => {
  it('registers a processing-time timer at end - 1 and fires on it', () => {
    const t: Trigger<Window> = ProcessingTimeTrigger.create();
    const ctx = new FakeContext();
    expect(t.onElement(1, NaN, w, ctx)).toBe(TriggerResult.CONTINUE);
    expect([...ctx.processingTimers]).toEqual([9]);
    expect(t.onEventTime(9, w, ctx)).toBe(TriggerResult.CONTINUE);
    expect(t.onProcessingTime(9, w, ctx)).toBe(TriggerResult.FIRE);
    t.clear(w, ctx);
    expect(ctx.processingTimers.size).toBe(0);
  });
});

describe('CountTrigger', () => {
  it('fires every n records, its count in the context state; merging adds the counts', () => {
    const t = CountTrigger.of(3);
    const ctx = new FakeContext();
    const results = Array.from({ length: 7 }, () => t.onElement(1, 0, w, ctx));
    expect(results.map((r) => r === TriggerResult.FIRE)).toEqual([false, false, true, false, false, true, false]);
    expect(ctx.state.get('count')).toBe(1);
    ctx.merged = [new Map([['count', 1]])];
    t.onMerge(w, ctx);
    expect(ctx.state.get('count')).toBe(2);
    expect(t.onElement(1, 0, w, ctx)).toBe(TriggerResult.FIRE);
    t.clear(w, ctx);
    expect(ctx.state.size).toBe(0);
    expect(() => CountTrigger.of(0)).toThrow(/positive whole count/);
  });
});

describe('PurgingTrigger', () => {
  it('turns FIRE into FIRE_AND_PURGE and passes CONTINUE through', () => {
    const t = PurgingTrigger.of(CountTrigger.of(2));
    const ctx = new FakeContext();
    expect(t.onElement(1, 0, w, ctx)).toBe(TriggerResult.CONTINUE);
    expect(t.onElement(1, 0, w, ctx)).toBe(TriggerResult.FIRE_AND_PURGE);
    expect(PurgingTrigger.of<Window>(EventTimeTrigger.create()).onEventTime(9, w, ctx)).toBe(TriggerResult.FIRE_AND_PURGE);
    expect(t.toString()).toBe('PurgingTrigger(CountTrigger(2))');
  });
});
