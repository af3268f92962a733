import { describe, it, expect } from 'vitest';
import { InsufficientSlotsError, MobiusError } from '@mobius/interface';
import type { TaskPlacement } from '@mobius/interface';
import { SlotScheduler } from './slot-scheduler.js';
import { plan, scheduler } from './test-fixtures.js';
import { createLocalScheduler } from './local-scheduler.js';


function workerOf(placements: readonly TaskPlacement[], taskId: string): string | undefined {
  return placements.find((p) => p.taskId === taskId)?.workerId;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('SlotScheduler.place', () => {
  it('puts two tasks of one vertex on different workers', () => {
    const s = scheduler({ a: 2, b: 2 });
    const placed = s.place('job', plan({ v: 2 }));
    expect(placed).toHaveLength(2);
    expect(workerOf(placed, 'v#0')).not.toBe(workerOf(placed, 'v#1'));
    expect(s.freeSlots()).toBe(2);
  });

  it('heldSlots counts the slots a job holds, spare ones it spread its tasks over included', () => {
    const s = scheduler({ a: 2, b: 2 });
    s.place('job', plan({ v: 2, w: 1 }));
    expect(s.heldSlots('job')).toBe(4 - s.freeSlots());
    expect(s.heldSlots('job')).toBeGreaterThanOrEqual(s.requiredSlots(plan({ v: 2, w: 1 })));
    expect(s.heldSlots('other')).toBe(0);
  });

  it('spreads every vertex and fills all slots (3 vertices × p=2 in 3 groups on 3 workers × 2 slots)', () => {
    const s = scheduler({ a: 2, b: 2, c: 2 });
    const placed = s.place('job', plan({ v1: 2, v2: 2, v3: 2 }, { v1: 'g1', v2: 'g2', v3: 'g3' }));
    expect(placed.map((p) => p.taskId)).toEqual(['v1#0', 'v1#1', 'v2#0', 'v2#1', 'v3#0', 'v3#1']);
    for (const v of ['v1', 'v2', 'v3']) {
      expect(workerOf(placed, `${v}#0`)).not.toBe(workerOf(placed, `${v}#1`));
    }
    expect(s.freeSlots()).toBe(0);
    const perWorker = new Map<string, number>();
    for (const p of placed) perWorker.set(p.workerId, (perWorker.get(p.workerId) ?? 0) + 1);
    expect(perWorker).toEqual(new Map([['a', 2], ['b', 2], ['c', 2]]));
  });

  it('breaks ties by most free slots, then by registration order', () => {
    const s = scheduler({ small: 1, big: 3 });
    expect(s.place('j1', plan({ v: 1 }))).toEqual([{ taskId: 'v#0', workerId: 'big' }]);
    const t = scheduler({ first: 2, second: 2 });
    expect(t.place('j1', plan({ v: 1 }))).toEqual([{ taskId: 'v#0', workerId: 'first' }]);
  });

  it('stacks tasks of a vertex only when one worker has free slots', () => {
    const s = scheduler({ a: 1, b: 3 });
    const placed = s.place('job', plan({ v: 4 }));
    expect(placed.filter((p) => p.workerId === 'b')).toHaveLength(3);
    expect(s.freeSlots()).toBe(0);
  });

  it('throws InsufficientSlotsError naming both numbers and reserves nothing', () => {
    const s = scheduler({ a: 2, b: 1 });
    s.place('other', plan({ x: 1 }));
    const error = thrown(() => s.place('job', plan({ v1: 4, v2: 2 })));
    expect(error).toBeInstanceOf(InsufficientSlotsError);
    expect((error as InsufficientSlotsError).code).toBe('INSUFFICIENT_SLOTS');
    expect(error).toMatchObject({ required: 4, available: 2, total: 3 });
    expect((error as Error).message).toBe('job needs 4 slots but the cluster has 2 free of 3');
    expect(s.freeSlots()).toBe(2);
    expect(() => s.placements('job')).toThrow(/job/);
    // The failed attempt left no trace: the same id can be placed once capacity allows.
    expect(s.place('job', plan({ v1: 2, v2: 1 }))).toHaveLength(3);
    expect(s.freeSlots()).toBe(0);
  });

  it('rejects placing the same job id twice', () => {
    const s = scheduler({ a: 4 });
    s.place('job', plan({ v: 1 }));
    const error = thrown(() => s.place('job', plan({ v: 1 })));
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as MobiusError).code).toBe('JOB_ALREADY_PLACED');
    expect((error as Error).message).toContain('job');
    expect(s.freeSlots()).toBe(3);
  });

  it('names unknown jobs and tasks in its errors', () => {
    const s = scheduler({ a: 2 });
    s.place('job', plan({ v: 1 }));
    expect(() => s.placements('nope')).toThrow(/"nope"/);
    expect(() => s.release('nope')).toThrow(/"nope"/);
    expect(() => s.replace('nope', 'v#0')).toThrow(/"nope"/);
    const error = thrown(() => s.replace('job', 'v#9'));
    expect((error as MobiusError).code).toBe('UNKNOWN_TASK');
    expect((error as Error).message).toContain('v#9');
  });
});

describe('SlotScheduler.replace and removeWorker', () => {
  it('moves the tasks of a removed worker onto the remaining workers, respecting exclude', () => {
    const s = scheduler({ a: 2, b: 2, c: 2 });
    const placed = s.place('job', plan({ v: 2 }));
    const lostWorker = workerOf(placed, 'v#0') ?? '';
    const lost = s.removeWorker(lostWorker);
    expect(lost).toEqual(new Map([['job', ['v#0']]]));
    expect(s.workers().map((w) => w.id)).not.toContain(lostWorker);
    expect(s.placements('job').map((p) => p.taskId)).toEqual(['v#1']);

    const survivor = workerOf(placed, 'v#1') ?? '';
    const idle = ['a', 'b', 'c'].find((id) => id !== lostWorker && id !== survivor) ?? '';
    // The idle worker would win on spreading alone; excluding it forces the other one.
    const moved = s.replace('job', 'v#0', [idle]);
    expect(moved).toEqual({ taskId: 'v#0', workerId: survivor });
    expect(s.placements('job')).toHaveLength(2);
    expect(s.freeSlots()).toBe(2);
  });

  it('prefers spreading when nothing is excluded', () => {
    const s = scheduler({ a: 2, b: 2, c: 2 });
    const placed = s.place('job', plan({ v: 2 }));
    const lostWorker = workerOf(placed, 'v#0') ?? '';
    s.removeWorker(lostWorker);
    const moved = s.replace('job', 'v#0');
    expect(moved.workerId).not.toBe(workerOf(placed, 'v#1'));
    expect(moved.workerId).not.toBe(lostWorker);
  });

  it('falls back to an excluded worker when it is the only one with a free slot', () => {
    const s = scheduler({ a: 1, b: 2 });
    s.place('job', plan({ v: 2 }));
    // v#0 went to b (more free slots), so losing a orphans v#1.
    expect(s.removeWorker('a')).toEqual(new Map([['job', ['v#1']]]));
    expect(s.replace('job', 'v#1', ['b'])).toEqual({ taskId: 'v#1', workerId: 'b' });
    expect(s.freeSlots()).toBe(0);
  });

  it('throws InsufficientSlotsError(1, 0) when no slot is free anywhere', () => {
    const s = scheduler({ a: 1, b: 1 });
    s.place('job', plan({ v: 2 }));
    s.removeWorker('a');
    const error = thrown(() => s.replace('job', 'v#0'));
    expect(error).toBeInstanceOf(InsufficientSlotsError);
    expect(error).toMatchObject({ required: 1, available: 0 });
    // A new worker arriving makes the orphaned task placeable again.
    s.registerWorker({ id: 'c', endpoint: 'mem://c', slots: 1 });
    expect(s.replace('job', 'v#0')).toEqual({ taskId: 'v#0', workerId: 'c' });
  });

  it('moves a still-placed task away from an excluded worker', () => {
    const s = scheduler({ a: 2, b: 2 });
    const placed = s.place('job', plan({ v: 1 }));
    const from = workerOf(placed, 'v#0') ?? '';
    const moved = s.replace('job', 'v#0', [from]);
    expect(moved.workerId).not.toBe(from);
    expect(s.freeSlots()).toBe(3);
  });

  it('returns an empty map for a worker holding no tasks or an unknown one', () => {
    const s = scheduler({ a: 2, b: 2 });
    s.place('job', plan({ v: 1 }));
    expect(s.removeWorker('b').size).toBe(0);
    expect(s.removeWorker('zzz').size).toBe(0);
  });
});

describe('SlotScheduler workers and release', () => {
  it('release frees every slot of the job', () => {
    const s = scheduler({ a: 2, b: 2 });
    s.place('j1', plan({ v: 2 }));
    s.place('j2', plan({ w: 1 }));
    expect(s.freeSlots()).toBe(1);
    s.release('j1');
    expect(s.freeSlots()).toBe(3);
    expect(() => s.placements('j1')).toThrow(/j1/);
    expect(s.placements('j2')).toHaveLength(1);
  });

  it('re-registering a worker updates it in place and keeps its used slots', () => {
    const s = scheduler({ a: 1, b: 1 });
    s.place('job', plan({ v: 2 }));
    s.registerWorker({ id: 'a', endpoint: 'mem://a2', slots: 3 });
    expect(s.workers()).toEqual([
      { id: 'a', endpoint: 'mem://a2', slots: 3 },
      { id: 'b', endpoint: 'mem://b', slots: 1 },
    ]);
    expect(s.freeSlots()).toBe(2);
    s.release('job');
    expect(s.freeSlots()).toBe(4);
  });

  it('rejects invalid slot counts with INVALID_WORKER naming the worker', () => {
    const s = new SlotScheduler();
    for (const slots of [0, -1, 1.5, Number.NaN]) {
      const error = thrown(() => s.registerWorker({ id: 'w-bad', endpoint: 'mem://x', slots }));
      expect(error).toBeInstanceOf(MobiusError);
      expect((error as MobiusError).code).toBe('INVALID_WORKER');
      expect((error as Error).message).toContain('w-bad');
    }
    expect(s.workers()).toEqual([]);
    expect(s.freeSlots()).toBe(0);
  });
});

describe('createLocalScheduler', () => {
  it('places a 10-task plan on the single local worker', () => {
    const s = createLocalScheduler();
    expect(s.workers()).toEqual([
      { id: 'local', endpoint: 'memory://local', slots: Number.MAX_SAFE_INTEGER, pid: process.pid },
    ]);
    const placed = s.place('job', plan({ src: 4, map: 4, sink: 2 }));
    expect(placed).toHaveLength(10);
    expect(placed.every((p) => p.workerId === 'local')).toBe(true);
    // Slots to spare: one per task, as without sharing.
    expect(s.freeSlots()).toBe(Number.MAX_SAFE_INTEGER - 10);
  });

  it('honours a slot limit', () => {
    const s = createLocalScheduler({ slots: 4 });
    expect(() => s.place('job', plan({ v: 5 }))).toThrow(InsufficientSlotsError);
    expect(s.place('job', plan({ v: 4 }))).toHaveLength(4);
  });
});

describe('SlotScheduler.adopt', () => {
  it('takes over given placements: slots are used there, tasks on unknown workers stay unplaced until replace', () => {
    const s = scheduler({ w1: 2, w2: 2 });
    const p = plan({ a: 2, b: 1 });
    s.adopt('job', p, [
      { taskId: 'a#0', workerId: 'w1' },
      { taskId: 'a#1', workerId: 'gone' },
      { taskId: 'b#0', workerId: 'w1' },
    ]);
    expect(s.placements('job')).toEqual([
      { taskId: 'a#0', workerId: 'w1' },
      { taskId: 'b#0', workerId: 'w1' },
    ]);
    // a#0 and b#0 share one slot on w1.
    expect(s.freeSlots()).toBe(3);
    expect(s.replace('job', 'a#1')).toEqual({ taskId: 'a#1', workerId: 'w2' });
    expect(s.freeSlots()).toBe(2);
  });
});
