import { describe, expect, it } from 'vitest';
import { ProcessingCallbacks } from './processing-callbacks.js';

describe('ProcessingCallbacks', () => {
  it('runs the callbacks due in time order and asks for a wake-up at the next one', () => {
    const wakes: number[] = [];
    const ran: string[] = [];
    const callbacks = new ProcessingCallbacks((time) => wakes.push(time));
    callbacks.scheduleAt(20, () => ran.push('b'));
    callbacks.scheduleAt(10, () => ran.push('a'));
    callbacks.scheduleAt(30, () => ran.push('c'));
    expect(wakes).toEqual([20, 10]);
    callbacks.fire(20);
    expect(ran).toEqual(['a', 'b']);
    expect(wakes.at(-1)).toBe(30);
    expect(callbacks.size).toBe(1);
  });

  it('a wake-up that comes before the earliest time asks for another (none is lost)', () => {
    // A Node timeout may fire a millisecond before Date.now() reaches its time: the task calls
    // fire() with a `now` just short of it, and nothing else would wake it again.
    const wakes: number[] = [];
    const ran: number[] = [];
    const callbacks = new ProcessingCallbacks((time) => wakes.push(time));
    callbacks.scheduleAt(100, (now) => ran.push(now));
    wakes.length = 0;
    callbacks.fire(99);
    expect(ran).toEqual([]);
    expect(wakes).toEqual([100]);
    callbacks.fire(100);
    expect(ran).toEqual([100]);
  });

  it('a callback scheduling the next one (a periodic watermark) is woken for it', () => {
    const wakes: number[] = [];
    const callbacks = new ProcessingCallbacks((time) => wakes.push(time));
    const periodic = (now: number): void => callbacks.scheduleAt(now + 10, periodic);
    callbacks.scheduleAt(10, periodic);
    callbacks.fire(12);
    expect(wakes.at(-1)).toBe(22);
    expect(callbacks.size).toBe(1);
  });
});
