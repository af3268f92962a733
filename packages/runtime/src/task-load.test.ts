import { describe, expect, it } from 'vitest';
import { LoadState, TaskLoad } from './task-load.js';

/** A clock the test moves by hand, starting on a whole second. */
function manualClock(start = 10_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('TaskLoad', () => {
  it('splits each second into busy, backpressured and idle time, averaged over the window', () => {
    const clock = manualClock();
    const load = new TaskLoad(5000, clock.now);
    let recordsIn = 0;
    let recordsOut = 0;
    // Six seconds of the same pattern: 600 ms busy (300 records in, 150 out), 300 ms blocked, 100 ms idle.
    for (let s = 0; s < 6; s++) {
      load.enter(LoadState.Busy, recordsIn, recordsOut);
      clock.advance(600);
      recordsIn += 300;
      recordsOut += 150;
      load.enter(LoadState.BackPressured, recordsIn, recordsOut);
      clock.advance(300);
      load.enter(LoadState.Idle, recordsIn, recordsOut);
      clock.advance(100);
    }
    const f = load.read();
    expect(f.busyTimeMsPerSecond).toBeCloseTo(600, 6);
    expect(f.backPressuredTimeMsPerSecond).toBeCloseTo(300, 6);
    expect(f.idleTimeMsPerSecond).toBeCloseTo(100, 6);
    expect(f.recordsInPerSecond).toBeCloseTo(300, 6);
    expect(f.recordsOutPerSecond).toBeCloseTo(150, 6);
    // 300 records per 0.6 s of busy time.
    expect(f.trueProcessingRate).toBeCloseTo(500, 6);
    expect(f.trueOutputRate).toBeCloseTo(250, 6);
  });

  it('forgets what is older than the window and charges an ongoing wait to its state', () => {
    const clock = manualClock();
    const load = new TaskLoad(3000, clock.now);
    load.enter(LoadState.Busy, 0, 0);
    clock.advance(10_000);
    load.enter(LoadState.Idle, 50_000, 0);
    // Idle for 4 s with no further call: the reading charges those seconds to idle.
    clock.advance(4000);
    const f = load.read();
    expect(f.busyTimeMsPerSecond).toBe(0);
    expect(f.idleTimeMsPerSecond).toBeCloseTo(1000, 6);
    expect(f.recordsInPerSecond).toBe(0);
    expect(f.trueProcessingRate).toBeUndefined();
  });

  it('moves once a second: the partial current second does not count', () => {
    const clock = manualClock();
    const load = new TaskLoad(2000, clock.now);
    load.enter(LoadState.Idle, 0, 0);
    clock.advance(2000);
    load.enter(LoadState.Busy, 0, 0);
    clock.advance(500);
    expect(load.read().idleTimeMsPerSecond).toBeCloseTo(1000, 6);
    clock.advance(500);
    const f = load.read();
    expect(f.idleTimeMsPerSecond).toBeCloseTo(500, 6);
    expect(f.busyTimeMsPerSecond).toBeCloseTo(500, 6);
  });

  it('reads the time since the start in a task\'s first second', () => {
    const clock = manualClock(10_200);
    const load = new TaskLoad(5000, clock.now);
    clock.advance(100);
    load.enter(LoadState.BackPressured, 40, 40);
    clock.advance(300);
    const f = load.read();
    expect(f.busyTimeMsPerSecond).toBeCloseTo(250, 6);
    expect(f.backPressuredTimeMsPerSecond).toBeCloseTo(750, 6);
    expect(f.recordsInPerSecond).toBeCloseTo(100, 6);
    expect(f.trueProcessingRate).toBeCloseTo(400, 6);
  });

  it('leaves time spent waiting for the thread out of the shares, not out of the rates', () => {
    const clock = manualClock();
    const load = new TaskLoad(2000, clock.now);
    let recordsIn = 0;
    // Two seconds of: 250 ms busy (50 records), 500 ms waiting for the thread, 250 ms backpressured.
    for (let s = 0; s < 4; s++) {
      load.enter(LoadState.Busy, recordsIn, recordsIn);
      clock.advance(250);
      recordsIn += 50;
      load.enter(LoadState.Ready, recordsIn, recordsIn);
      clock.advance(250);
      load.enter(LoadState.BackPressured, recordsIn, recordsIn);
      clock.advance(250);
      load.enter(LoadState.Ready, recordsIn, recordsIn);
      clock.advance(250);
    }
    const f = load.read();
    expect(f.busyTimeMsPerSecond).toBeCloseTo(500, 6);
    expect(f.backPressuredTimeMsPerSecond).toBeCloseTo(500, 6);
    expect(f.idleTimeMsPerSecond).toBe(0);
    expect(f.recordsInPerSecond).toBeCloseTo(50, 6);
    // 50 records per 250 ms of real busy time.
    expect(f.trueProcessingRate).toBeCloseTo(200, 6);
  });

  it('spreads nothing into seconds it skipped and refuses a window under a second', () => {
    const clock = manualClock();
    const load = new TaskLoad(2000, clock.now);
    load.enter(LoadState.Busy, 1000, 0);
    clock.advance(1000);
    load.enter(LoadState.Busy, 1000, 0);
    clock.advance(2500);
    // The 1000 records fell in the first second, which left the 2 s window.
    expect(load.read().recordsInPerSecond).toBe(0);
    expect(() => new TaskLoad(500)).toThrow(/shorter than one second/);
  });
});
