import { describe, expect, it } from 'vitest';
import { TaskStallMonitor } from './heartbeat-stalls.js';

const report = (records: number, busy: boolean, attempt = 0) => [{ taskId: 'job/map#0', attempt, records, busy }];

describe('TaskStallMonitor', () => {
  it('a busy task whose count does not move is stalled after stallAfterMs, and failed once past the stall timeout', () => {
    const m = new TaskStallMonitor(2000);
    const timeout = () => 5000;
    expect(m.observe(report(10, true), 0, timeout)).toEqual([]);
    expect(m.observe(report(10, true), 1999, timeout)).toEqual([]);
    expect(m.observe(report(10, true), 2000, timeout)).toEqual([{ jobId: 'job', taskId: 'map#0', attempt: 0, stalledMs: 2000, kind: 'stall' }]);
    expect(m.isStalled('job', 'map#0', 0)).toBe(true);
    expect(m.observe(report(10, true), 4000, timeout)).toEqual([]);
    expect(m.observe(report(10, true), 5000, timeout)).toEqual([{ jobId: 'job', taskId: 'map#0', attempt: 0, stalledMs: 5000, kind: 'timeout' }]);
    expect(m.observe(report(10, true), 9000, timeout)).toEqual([]);
    expect([m.stallsTotal, m.stallFailuresTotal]).toEqual([1, 1]);
  });

  it('moving on, or letting the thread go, is progress; a new attempt starts afresh', () => {
    const m = new TaskStallMonitor(2000);
    const timeout = () => 3000;
    m.observe(report(10, true), 0, timeout);
    expect(m.observe(report(11, true), 2500, timeout)).toEqual([]);
    expect(m.observe(report(11, false), 5000, timeout)).toEqual([]);
    expect(m.observe(report(11, true), 6000, timeout)).toEqual([]);
    expect(m.isStalled('job', 'map#0', 0)).toBe(false);
    expect(m.observe(report(11, true), 7500, timeout).map((v) => v.kind)).toEqual(['stall']);
    // The recovered task's next attempt is followed from its first report.
    expect(m.observe(report(11, true, 1), 9000, timeout)).toEqual([]);
    expect(m.isStalled('job', 'map#0', 1)).toBe(false);
  });

  it('with no stall timeout (0) a stall is only reported; reports of attempts the coordinator does not run are ignored', () => {
    const m = new TaskStallMonitor(2000);
    m.observe(report(1, true), 0, () => 0);
    expect(m.observe(report(1, true), 60_000, () => 0).map((v) => v.kind)).toEqual(['stall']);
    expect(m.stallFailuresTotal).toBe(0);
    const other = new TaskStallMonitor(2000);
    other.observe(report(1, true), 0, () => undefined);
    expect(other.observe(report(1, true), 60_000, () => undefined)).toEqual([]);
  });

  it('a stall timeout shorter than stallAfterMs reports the stall with the failure', () => {
    const m = new TaskStallMonitor(2000);
    m.observe(report(1, true), 0, () => 500);
    expect(m.observe(report(1, true), 600, () => 500).map((v) => v.kind)).toEqual(['stall', 'timeout']);
  });
});
