import { MobiusError, type Determinant } from '@mobius/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { thrown } from '../test-channels.js';
import { DeterminantCopy, DeterminantLog } from './determinant-log.js';

const order = (n: number, input: number, count: number): Determinant => ({
  n,
  kind: 'order',
  input,
  count,
  value: 0,
});
const time = (n: number, value: number): Determinant => ({
  n,
  kind: 'time',
  input: 0,
  count: 0,
  value,
});
const random = (n: number, value: number): Determinant => ({
  n,
  kind: 'random',
  input: 0,
  count: 0,
  value,
});

function activeLog(): DeterminantLog {
  const log = new DeterminantLog('sum#0');
  log.active = true;
  return log;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DeterminantLog: running freely', () => {
  it('logs input choices, times and random draws at consecutive positions', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1234);
    vi.spyOn(Math, 'random').mockReturnValue(0.75);
    const log = activeLog();
    expect(log.replaying).toBe(false);
    expect(log.nextOrder()).toBeUndefined();
    log.order(0, 3);
    expect(log.now()).toBe(1234);
    expect(log.random()).toBe(0.75);
    log.order(1, 2);
    expect(log.next).toBe(4);
    expect(log.length).toBe(4);
    expect(log.since(0)).toEqual([order(0, 0, 3), time(1, 1234), random(2, 0.75), order(3, 1, 2)]);
  });

  it('since(from) gives the entries from a position on, or null when there are none', () => {
    const log = activeLog();
    log.order(0, 1);
    log.order(1, 1);
    log.order(0, 2);
    expect(log.since(1)).toEqual([order(1, 1, 1), order(2, 0, 2)]);
    expect(log.since(3)).toBeNull();
    expect(log.since(99)).toBeNull();
  });

  it('dropBefore() drops what every channel sent; positions keep counting', () => {
    const log = activeLog();
    for (let i = 0; i < 5; i++) log.order(i % 2, i + 1);
    log.dropBefore(3);
    expect(log.length).toBe(2);
    expect(log.since(3)).toEqual([order(3, 1, 4), order(4, 0, 5)]);
    // A channel further back gets what is left (the older entries are gone).
    expect(log.since(0)).toEqual([order(3, 1, 4), order(4, 0, 5)]);
    log.dropBefore(2); // already dropped: nothing changes
    expect(log.length).toBe(2);
    log.order(1, 6);
    expect(log.since(5)).toEqual([order(5, 1, 6)]);
    log.dropBefore(100); // beyond the end: drops what there is
    expect(log.length).toBe(0);
    expect(log.since(6)).toBeNull();
    log.order(0, 1);
    expect(log.since(6)).toEqual([order(6, 0, 1)]);
  });

  it('does not log times or random draws while not active (open/close), and returns fresh values', () => {
    vi.spyOn(Date, 'now').mockReturnValue(5);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const log = new DeterminantLog('t');
    expect(log.active).toBe(false);
    expect(log.now()).toBe(5);
    expect(log.random()).toBe(0.5);
    expect(log.next).toBe(0);
    expect(log.length).toBe(0);
    log.active = true;
    expect(log.now()).toBe(5);
    expect(log.next).toBe(1);
    log.active = false;
    log.random();
    expect(log.next).toBe(1);
  });
});

describe('DeterminantLog: replay after a restore', () => {
  it('continues numbering after the checkpoint and ignores entries at or before it', () => {
    const log = activeLog();
    log.restore(9, [order(8, 0, 1), order(9, 1, 1)]);
    expect(log.replaying).toBe(false);
    expect(log.next).toBe(10);
    log.order(0, 4);
    expect(log.since(0)).toEqual([order(10, 0, 4)]);
  });

  it('replays the logged order, times and random draws, and logs them again under the same positions', () => {
    vi.spyOn(Date, 'now').mockReturnValue(999_999);
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const log = activeLog();
    const entries = [order(5, 1, 3), time(6, 123), order(7, 0, 2), random(8, 0.25), order(9, 1, 1)];
    // Unordered, with entries from before the checkpoint: restore sorts and filters.
    log.restore(4, [entries[2], order(3, 0, 7), entries[0], entries[4], entries[1], order(4, 1, 1), entries[3]]);
    expect(log.replaying).toBe(true);
    expect(log.next).toBe(5);

    expect(log.nextOrder()).toEqual({ input: 1, count: 3 });
    log.order(1, 2); // the logged 3 records came in two frames
    expect(log.replaying).toBe(true);
    expect(log.nextOrder()).toEqual({ input: 1, count: 1 });
    log.order(1, 1);
    expect(log.nextOrder()).toBeUndefined(); // next is a time value, not an input choice
    expect(log.now()).toBe(123);
    expect(log.nextOrder()).toEqual({ input: 0, count: 2 });
    log.order(0, 2);
    expect(log.random()).toBe(0.25);
    expect(log.nextOrder()).toEqual({ input: 1, count: 1 });
    expect(log.replaying).toBe(true);
    log.order(1, 1);
    expect(log.replaying).toBe(false);
    expect(log.nextOrder()).toBeUndefined();

    // Logged again as one log: the split order entry is one entry, with the logged count.
    expect(log.since(5)).toEqual(entries);
    expect(log.next).toBe(10);

    // Then it runs freely.
    log.order(0, 8);
    expect(log.now()).toBe(999_999);
    expect(log.random()).toBe(0.999);
    expect(log.since(10)).toEqual([order(10, 0, 8), time(11, 999_999), random(12, 0.999)]);
  });

  it('a time or random value asked for while not active does not consume the replay', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1);
    const log = new DeterminantLog('t');
    log.restore(-1, [time(0, 42)]);
    expect(log.now()).toBe(1); // open(): fresh, not from the log
    expect(log.replaying).toBe(true);
    log.active = true;
    expect(log.now()).toBe(42);
    expect(log.replaying).toBe(false);
    expect(log.since(0)).toEqual([time(0, 42)]);
  });

  it('restore(-1, undefined) starts a fresh log', () => {
    const log = activeLog();
    log.restore(-1, undefined);
    expect(log.replaying).toBe(false);
    expect(log.next).toBe(0);
  });

  it('a gap in the entries after the checkpoint is DETERMINANTS_INCOMPLETE', () => {
    const cases: Determinant[][] = [
      [order(5, 0, 1), order(7, 0, 1)], // 6 missing
      [order(6, 0, 1)], // 5 missing: the copy begins after the checkpoint's position
    ];
    for (const entries of cases) {
      const e = thrown(() => activeLog().restore(4, entries));
      expect(e).toBeInstanceOf(MobiusError);
      expect(e).toMatchObject({ code: 'DETERMINANTS_INCOMPLETE' });
      expect((e as Error).message).toContain('sum#0');
    }
  });

  it('taking records from another input than logged is DETERMINANTS_DIVERGED', () => {
    const log = activeLog();
    log.restore(-1, [order(0, 0, 2)]);
    const e = thrown(() => log.order(1, 1));
    expect(e).toBeInstanceOf(MobiusError);
    expect(e).toMatchObject({ code: 'DETERMINANTS_DIVERGED' });
    expect((e as Error).message).toContain('sum#0');
  });

  it('taking more records than logged, or a value where an input choice is logged, diverges', () => {
    const more = activeLog();
    more.restore(-1, [order(0, 0, 2)]);
    expect(thrown(() => more.order(0, 3))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });

    const continuing = activeLog();
    continuing.restore(-1, [order(0, 0, 2)]);
    continuing.order(0, 1);
    expect(thrown(() => continuing.order(1, 1))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });
    expect(thrown(() => continuing.order(0, 2))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });

    const value = activeLog();
    value.restore(-1, [order(0, 0, 2)]);
    expect(thrown(() => value.now())).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });

    const kind = activeLog();
    kind.restore(-1, [time(0, 1)]);
    expect(thrown(() => kind.random())).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });
    expect(thrown(() => kind.order(0, 1))).toMatchObject({
      code: 'DETERMINANTS_DIVERGED',
    });
  });

  it('stuck() names what the log still has', () => {
    const log = activeLog();
    log.restore(-1, [random(0, 0.1)]);
    const e = log.stuck();
    expect(e).toMatchObject({ code: 'DETERMINANTS_DIVERGED' });
    expect(e.message).toContain('random');
  });
});

describe('DeterminantCopy', () => {
  it('keeps each entry once, in order, when frames repeat entries (a replaying upstream)', () => {
    const copy = new DeterminantCopy(100);
    copy.receive([order(0, 0, 1), order(1, 1, 1), order(2, 0, 1)]);
    copy.receive([order(1, 1, 1), order(2, 0, 1), order(3, 1, 2)]);
    copy.receive([order(0, 0, 1)]);
    expect(copy.list()).toEqual([order(0, 0, 1), order(1, 1, 1), order(2, 0, 1), order(3, 1, 2)]);
    expect(copy.droppedThrough).toBe(-1);
  });

  it('marks the position at a barrier and trims through it when the checkpoint completes', () => {
    const copy = new DeterminantCopy(100);
    copy.receive([order(0, 0, 1), order(1, 1, 1)]);
    copy.mark(1);
    copy.receive([order(2, 0, 1)]);
    copy.mark(1); // the barrier on another channel of the same upstream: first mark counts
    copy.receive([order(3, 0, 1)]);
    copy.mark(2);
    copy.receive([order(4, 1, 1)]);
    copy.trim(7); // unknown checkpoint: nothing
    expect(copy.list()).toHaveLength(5);
    copy.trim(1);
    expect(copy.list()).toEqual([order(2, 0, 1), order(3, 0, 1), order(4, 1, 1)]);
    copy.trim(2);
    expect(copy.list()).toEqual([order(4, 1, 1)]);
    copy.trim(1); // already trimmed past it
    expect(copy.list()).toEqual([order(4, 1, 1)]);
  });

  it('a later checkpoint completing trims through the earlier marks too', () => {
    const copy = new DeterminantCopy(100);
    copy.receive([order(0, 0, 1)]);
    copy.mark(1);
    copy.receive([order(1, 0, 1)]);
    copy.mark(2);
    copy.receive([order(2, 0, 1)]);
    copy.trim(2);
    expect(copy.list()).toEqual([order(2, 0, 1)]);
    copy.trim(1); // its mark went with 2
    expect(copy.list()).toEqual([order(2, 0, 1)]);
  });

  it('a mark before any entry trims nothing', () => {
    const copy = new DeterminantCopy(100);
    copy.mark(1);
    copy.receive([order(0, 0, 1)]);
    copy.trim(1);
    expect(copy.list()).toEqual([order(0, 0, 1)]);
  });

  it('is bounded by maxEntries: the oldest go and the copy records what it no longer covers', () => {
    const copy = new DeterminantCopy(3);
    copy.receive([order(0, 0, 1), order(1, 0, 1)]);
    copy.receive([order(2, 0, 1), order(3, 0, 1), order(4, 0, 1)]);
    expect(copy.list().map((d) => d.n)).toEqual([2, 3, 4]);
    expect(copy.droppedThrough).toBe(1);
    copy.receive([order(5, 0, 1)]);
    expect(copy.list().map((d) => d.n)).toEqual([3, 4, 5]);
    expect(copy.droppedThrough).toBe(2);
  });
});
