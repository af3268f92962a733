import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '@mobius/interface';
import { RestartStrategy, type RestartClock } from './restart-strategy.js';

/** A clock the test moves by hand; `draw` is every random draw (0.5: no jitter). */
class FakeClock implements RestartClock {
  time = 1_000_000;
  draw = 0.5;
  now(): number {
    return this.time;
  }
  random(): number {
    return this.draw;
  }
}

function strategy(config: ConfigMap): { s: RestartStrategy; clock: FakeClock } {
  const clock = new FakeClock();
  return { s: RestartStrategy.fromConfig(config, clock), clock };
}

const exponential = { 'restart.exponential.jitter-factor': 0 };

describe('RestartStrategy: exponential-delay (the default)', () => {
  it('is the default, starts at the initial backoff and multiplies it per failure up to the maximum, with no lifetime cap', () => {
    const { s, clock } = strategy({ 'restart.exponential.initial-backoff.ms': 100, 'restart.exponential.max-backoff.ms': 1000, 'restart.exponential.backoff-multiplier': 2, ...exponential });
    expect(s.name).toBe('exponential-delay');
    const delays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const d = s.jobFailed();
      expect(d.restart).toBe(true);
      delays.push(d.delayMs);
      clock.time += d.delayMs + 10; // fails again soon after each recovery
    }
    expect(delays.slice(0, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(delays.every((d) => d <= 1000)).toBe(true);
  });

  it('uses the documented defaults: 100 ms, times 1.5, at most 60 s', () => {
    const { s } = strategy(exponential);
    expect([s.jobFailed().delayMs, s.jobFailed().delayMs, s.jobFailed().delayMs]).toEqual([100, 150, 225]);
  });

  it('resets to the initial backoff after running the threshold since the last recovery, not before', () => {
    const { s, clock } = strategy({ 'restart.exponential.initial-backoff.ms': 100, 'restart.exponential.backoff-multiplier': 2, 'restart.exponential.reset-backoff-threshold.ms': 5000, ...exponential });
    expect(s.jobFailed().delayMs).toBe(100);
    clock.time += 100 + 4999; // recovered 100 ms after the failure, then ran 4,999 ms
    expect(s.jobFailed().delayMs).toBe(200);
    clock.time += 200 + 5000; // ran exactly the threshold
    expect(s.jobFailed().delayMs).toBe(100);
  });

  it('moves each delay by at most ± jitter-factor of it', () => {
    const { s, clock } = strategy({ 'restart.exponential.initial-backoff.ms': 1000, 'restart.exponential.jitter-factor': 0.2, 'restart.exponential.reset-backoff-threshold.ms': 1 });
    clock.draw = 0;
    expect(s.jobFailed().delayMs).toBe(800);
    clock.time += 10_000;
    clock.draw = 0.999999;
    expect(s.jobFailed().delayMs).toBe(1200);
    clock.time += 10_000;
    clock.draw = 0.75;
    expect(s.jobFailed().delayMs).toBe(1100);
  });

  it('keeps a backoff per task: a task failing for the first time starts at the initial backoff whatever others did', () => {
    const { s, clock } = strategy({ 'restart.exponential.initial-backoff.ms': 100, 'restart.exponential.backoff-multiplier': 2, ...exponential });
    expect(s.tasksFailed(['map#0']).delayMs).toBe(100);
    clock.time += 150;
    expect(s.tasksFailed(['map#0']).delayMs).toBe(200);
    clock.time += 250;
    expect(s.tasksFailed(['map#1']).delayMs).toBe(100);
    // The job's own backoff (global restores) is untouched by task recoveries.
    expect(s.jobFailed().delayMs).toBe(100);
    // Several tasks failing together (a lost worker): the longest of their delays.
    clock.time += 150;
    expect(s.tasksFailed(['map#1', 'map#0', 'sink#0'])).toEqual({ restart: true, delayMs: 400 });
  });
});

describe('RestartStrategy: fixed-delay', () => {
  it('waits restart.delay.ms and allows restart.max-attempts failures of the job', () => {
    const { s } = strategy({ 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 2, 'restart.delay.ms': 70 });
    expect(s.jobFailed()).toEqual({ restart: true, delayMs: 70 });
    expect(s.jobFailed()).toEqual({ restart: true, delayMs: 70 });
    expect(s.jobFailed()).toEqual({ restart: false, delayMs: 0, reason: 'restart.max-attempts 2 reached' });
  });

  it('counts single-task recoveries per task, apart from global restores', () => {
    const { s } = strategy({ 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 1, 'restart.delay.ms': 0 });
    expect(s.tasksFailed(['map#0']).restart).toBe(true);
    expect(s.tasksFailed(['map#1']).restart).toBe(true);
    expect(s.jobFailed().restart).toBe(true);
    expect(s.tasksFailed(['source#0', 'map#0'])).toEqual({ restart: false, delayMs: 0, reason: 'restart.max-attempts 1 reached for task map#0' });
  });

  it('with restart.max-attempts 0 never restarts', () => {
    const { s } = strategy({ 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 0 });
    expect(s.jobFailed().restart).toBe(false);
    expect(s.tasksFailed(['a']).restart).toBe(false);
  });
});

describe('RestartStrategy: failure-rate', () => {
  const config = { 'restart.strategy': 'failure-rate', 'restart.failure-rate.max-failures-per-interval': 2, 'restart.failure-rate.interval.ms': 1000, 'restart.delay.ms': 30 };

  it('fails on a failure that comes while max-failures-per-interval earlier ones fall within the interval', () => {
    const { s, clock } = strategy(config);
    expect(s.jobFailed()).toEqual({ restart: true, delayMs: 30 });
    clock.time += 400;
    expect(s.jobFailed()).toEqual({ restart: true, delayMs: 30 });
    clock.time += 599; // the first failure is 999 ms old: still inside the interval
    const third = s.jobFailed();
    expect(third.restart).toBe(false);
    expect(third.reason).toBe('restart.failure-rate.max-failures-per-interval 2 reached within restart.failure-rate.interval.ms 1000');
  });

  it('allows failures forever at a rate below the limit', () => {
    const { s, clock } = strategy(config);
    for (let i = 0; i < 100; i++) {
      expect(s.jobFailed().restart).toBe(true);
      clock.time += 500; // two per second at most: the oldest of the last two is always 1,000 ms old
    }
  });

  it('counts each task apart', () => {
    const { s } = strategy({ ...config, 'restart.failure-rate.max-failures-per-interval': 1 });
    expect(s.tasksFailed(['map#0']).restart).toBe(true);
    expect(s.tasksFailed(['map#1']).restart).toBe(true);
    expect(s.jobFailed().restart).toBe(true);
    expect(s.tasksFailed(['map#1'])).toMatchObject({ restart: false, reason: expect.stringContaining('for task map#1') });
  });
});
