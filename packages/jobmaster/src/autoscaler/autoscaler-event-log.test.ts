import { describe, expect, it } from 'vitest';
import type { AutoscalerEvent } from './autoscaler-event.js';
import { AUTOSCALER_EVENT_LOG_CAPACITY, AutoscalerEventLog } from './autoscaler-event-log.js';

const event = (time: number): AutoscalerEvent => ({ kind: 'autoscaler', time, taken: false, reason: `evaluation ${time}`, rates: {}, decisions: [] });

describe('AutoscalerEventLog', () => {
  it('keeps events oldest first until it is full', () => {
    const log = new AutoscalerEventLog(3);
    log.add(event(1));
    log.add(event(2));
    expect(log.list().map((e) => e.time)).toEqual([1, 2]);
    expect(log.size).toBe(2);
    expect(log.dropped).toBe(0);
  });

  it('drops the oldest once full, counts what it dropped, and still lists oldest first', () => {
    const log = new AutoscalerEventLog(3);
    for (let t = 1; t <= 8; t++) log.add(event(t));
    expect(log.list().map((e) => e.time)).toEqual([6, 7, 8]);
    expect(log.size).toBe(3);
    expect(log.dropped).toBe(5);
  });

  it('holds 1000 events by default', () => {
    const log = new AutoscalerEventLog();
    for (let t = 0; t < 1500; t++) log.add(event(t));
    expect(AUTOSCALER_EVENT_LOG_CAPACITY).toBe(1000);
    expect(log.size).toBe(1000);
    expect(log.list()[0].time).toBe(500);
    expect(log.list()[999].time).toBe(1499);
  });

  it('lists a copy: changing it does not change the log', () => {
    const log = new AutoscalerEventLog(2);
    log.add(event(1));
    log.list().pop();
    expect(log.size).toBe(1);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new AutoscalerEventLog(0)).toThrow(/capacity must be an integer of at least 1, got 0/);
    expect(() => new AutoscalerEventLog(2.5)).toThrow(RangeError);
  });
});
