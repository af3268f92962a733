import { describe, expect, it } from 'vitest';
import { RecoveryEventLog, type RecoveryEventStart } from './recovery-events.js';

function start(time: number, overrides: Partial<RecoveryEventStart> = {}): RecoveryEventStart {
  return { time, strategy: 'single-task', tasks: ['reduce#1'], reason: 'only the failed task(s) roll back: reduce#1', checkpointId: 3, failed: ['reduce#1'], ...overrides };
}

describe('RecoveryEventLog', () => {
  it('lists an in-progress event with durationMs null', () => {
    const log = new RecoveryEventLog();
    log.begin(start(1000));
    expect(log.list()).toEqual([
      { time: 1000, kind: 'recovery', strategy: 'single-task', tasks: ['reduce#1'], reason: 'only the failed task(s) roll back: reduce#1', durationMs: null, checkpointId: 3, failed: ['reduce#1'] },
    ]);
  });

  it('sets durationMs on complete, replacing the event in place with a new object', () => {
    const log = new RecoveryEventLog();
    const first = log.begin(start(1000));
    log.begin(start(1500, { checkpointId: null }));
    const before = log.list()[0];
    const done = first.complete(1750);
    expect(done).toMatchObject({ kind: 'recovery', durationMs: 750 });
    expect(done).not.toBe(before);
    expect(before.durationMs).toBeNull();
    expect(log.list()[0]).toBe(done);
    expect(log.list().map((e) => e.time)).toEqual([1000, 1500]);
    expect(log.list()[1].durationMs).toBeNull();
    expect(Object.isFrozen(done)).toBe(true);
    expect(Object.isFrozen(done.tasks)).toBe(true);
  });

  it('marks a failed recovery recovery-failed with its reason', () => {
    const log = new RecoveryEventLog();
    const failed = log.begin(start(1000, { strategy: 'region' })).fail('no live worker has a free slot', 3000);
    expect(failed).toMatchObject({ kind: 'recovery-failed', strategy: 'region', reason: 'no live worker has a free slot', durationMs: 2000 });
    expect(log.list()).toEqual([failed]);
  });

  it('keeps the first outcome of an event', () => {
    const log = new RecoveryEventLog();
    const handle = log.begin(start(1000));
    const done = handle.complete(1200);
    expect(handle.fail('late', 5000)).toBe(done);
    expect(handle.complete(9000)).toBe(done);
    expect(log.list()).toEqual([done]);
  });

  it('drops the oldest events beyond its capacity', () => {
    const log = new RecoveryEventLog({ capacity: 3 });
    const handles = [1, 2, 3, 4, 5].map((t) => log.begin(start(t)));
    expect(log.list().map((e) => e.time)).toEqual([3, 4, 5]);
    // Finishing a dropped event does not bring it back.
    expect(handles[0].complete(10).durationMs).toBe(9);
    handles[3].complete(10);
    expect(log.list().map((e) => [e.time, e.durationMs])).toEqual([
      [3, null],
      [4, 6],
      [5, null],
    ]);
  });

  it('copies the arrays it is given', () => {
    const log = new RecoveryEventLog();
    const tasks = ['a#0'];
    log.begin(start(1, { tasks }));
    tasks.push('b#0');
    expect(log.list()[0].tasks).toEqual(['a#0']);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RecoveryEventLog({ capacity: 0 })).toThrow(RangeError);
    expect(() => new RecoveryEventLog({ capacity: 1.5 })).toThrow(RangeError);
  });
});
