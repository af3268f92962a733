import type { StateKey } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { KeyContext } from '../state/key-context.js';
import { stateKeyGroupOf } from '../state/operator-state.js';
import { TimerService, type TimeDomain } from './timer-service.js';

const MAX = 128;
const keyGroupOf = (key: StateKey, max: number): number => stateKeyGroupOf(max)(key);

function service(): { timers: TimerService; keys: KeyContext; fired: [StateKey, number, TimeDomain][] } {
  const keys = new KeyContext('op');
  const timers = new TimerService(keys, stateKeyGroupOf(MAX));
  const fired: [StateKey, number, TimeDomain][] = [];
  timers.target = { onTimer: (time, domain) => void fired.push([keys.currentKey!, time, domain]) };
  return { timers, keys, fired };
}

function register(t: TimerService, keys: KeyContext, key: StateKey, time: number, domain: TimeDomain = 'event'): void {
  keys.currentKey = key;
  if (domain === 'event') t.registerEventTimeTimer(time);
  else t.registerProcessingTimeTimer(time);
}

describe('TimerService', () => {
  it('event-time timers fire in time order, in their key, when the watermark reaches them', () => {
    const { timers, keys, fired } = service();
    register(timers, keys, 'b', 30);
    register(timers, keys, 'a', 10);
    register(timers, keys, 'c', 20);
    register(timers, keys, 'a', 40);
    timers.advanceWatermark(9);
    expect(fired).toEqual([]);
    timers.advanceWatermark(30);
    expect(fired).toEqual([
      ['a', 10, 'event'],
      ['c', 20, 'event'],
      ['b', 30, 'event'],
    ]);
    timers.advanceWatermark(Infinity);
    expect(fired.at(-1)).toEqual(['a', 40, 'event']);
    expect(timers.size).toBe(0);
  });

  it('one timer per (key, time, domain); a deleted timer does not fire; keys 1 and "1" are distinct', () => {
    const { timers, keys, fired } = service();
    register(timers, keys, 'a', 10);
    register(timers, keys, 'a', 10);
    register(timers, keys, 1, 10);
    register(timers, keys, '1', 10);
    register(timers, keys, 'a', 10, 'processing');
    keys.currentKey = '1';
    timers.deleteEventTimeTimer(10);
    expect(timers.size).toBe(3);
    timers.advanceWatermark(10);
    expect(fired).toEqual([
      ['a', 10, 'event'],
      [1, 10, 'event'],
    ]);
  });

  it('a timer registered from onTimer at or below the watermark fires in the same advance', () => {
    const { timers, keys, fired } = service();
    timers.target = {
      onTimer(time) {
        fired.push([keys.currentKey!, time, 'event']);
        if (time === 5) timers.registerEventTimeTimer(7);
      },
    };
    register(timers, keys, 'k', 5);
    timers.advanceWatermark(8);
    expect(fired).toEqual([
      ['k', 5, 'event'],
      ['k', 7, 'event'],
    ]);
  });

  it('processing-time timers fire only when the task asks, and report the earliest pending time', () => {
    const { timers, keys, fired } = service();
    const wakeUps: number[] = [];
    timers.onProcessingTimer = (time) => wakeUps.push(time);
    register(timers, keys, 'a', 1_000, 'processing');
    register(timers, keys, 'b', 500, 'processing');
    register(timers, keys, 'c', 2_000, 'processing');
    expect(wakeUps).toEqual([1_000, 500]);
    expect(timers.nextProcessingTime()).toBe(500);
    timers.advanceWatermark(Infinity); // event time does not fire processing timers
    expect(fired).toEqual([]);
    timers.fireProcessingTimers(1_500);
    expect(fired).toEqual([
      ['b', 500, 'processing'],
      ['a', 1_000, 'processing'],
    ]);
    expect(wakeUps.at(-1)).toBe(2_000);
    keys.currentKey = 'c';
    timers.deleteProcessingTimeTimer(2_000);
    expect(timers.nextProcessingTime()).toBeUndefined();
  });

  it('snapshot and restore: a task keeps only the timers of the key groups it owns, and together they hold them all', () => {
    const { timers, keys } = service();
    const all: [StateKey, number, TimeDomain][] = [];
    for (let i = 0; i < 200; i++) {
      const key: StateKey = i % 3 === 0 ? i : `k${i}`;
      const domain: TimeDomain = i % 2 === 0 ? 'event' : 'processing';
      register(timers, keys, key, 1000 + i, domain);
      all.push([key, 1000 + i, domain]);
    }
    const entries = timers.snapshot();
    expect(entries).toHaveLength(200);
    for (const e of entries) expect(e.keyGroup).toBe(keyGroupOf(e.key, MAX));

    const halves = [
      { start: 0, end: 63 },
      { start: 64, end: 127 },
    ];
    const restored = halves.map((range) => {
      const s = service();
      s.timers.restore(entries, range);
      s.timers.advanceWatermark(Infinity);
      s.timers.fireProcessingTimers(Infinity);
      for (const [key] of s.fired) {
        const kg = keyGroupOf(key, MAX);
        expect(kg >= range.start && kg <= range.end).toBe(true);
      }
      return s.fired;
    });
    const sortKey = (x: [StateKey, number, TimeDomain]): string => `${x[2]}|${x[1]}|${typeof x[0]}:${String(x[0])}`;
    expect([...restored[0], ...restored[1]].map(sortKey).sort()).toEqual(all.map(sortKey).sort());
    expect(restored[0].length).toBeGreaterThan(0);
    expect(restored[1].length).toBeGreaterThan(0);
  });
});
