import { describe, it, expect } from 'vitest';
import { InsufficientSlotsError } from '@mobius/interface';
import type { TaskPlacement } from '@mobius/interface';
import { requiredSlots, slotSharingGroups } from './slot-sharing.js';
import { plan, scheduler } from './test-fixtures.js';


/** worker → task ids on it. */
function byWorker(placed: readonly TaskPlacement[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const p of placed) map.set(p.workerId, [...(map.get(p.workerId) ?? []), p.taskId]);
  return map;
}

/** Eight chains of parallelism 2: the 16-task job of issue 17, item 7. */
const eightChains = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`c${i}`, 2]));

describe('slotSharingGroups / requiredSlots', () => {
  it('puts every vertex in "default" unless it names a group; a group takes its largest parallelism', () => {
    const p = plan({ src: 2, map: 4, sink: 1, side: 3 }, { side: 'io', sink: 'io' });
    const groups = slotSharingGroups(p);
    expect(groups.map((g) => [g.name, [...g.vertices.keys()], g.slots])).toEqual([
      ['default', ['src', 'map'], 4],
      ['io', ['sink', 'side'], 3],
    ]);
    expect(requiredSlots(p)).toBe(7);
    expect(requiredSlots(plan(eightChains))).toBe(2);
  });

  it('rejects a plan listing one task twice', () => {
    const p = plan({ v: 1 });
    expect(() => slotSharingGroups({ ...p, tasks: [...p.tasks, ...p.tasks] })).toThrow(/v#0.*more than once/);
  });
});

describe('SlotScheduler with slot sharing', () => {
  it('places the 16-task job (8 chains × p=2) in 2 slots, one task of each vertex per slot', () => {
    const s = scheduler({ w1: 2, w2: 2, w3: 2, w4: 2 });
    const p = plan(eightChains);
    expect(s.requiredSlots(p)).toBe(2);
    const placed = s.place('job', p);
    expect(placed).toHaveLength(16);
    expect(s.freeSlots()).toBe(6);
    const workers = byWorker(placed);
    // Task i of every vertex is in slot i; the two slots are on two workers.
    expect([...workers.values()].map((ids) => ids.length)).toEqual([8, 8]);
    for (const ids of workers.values()) expect(new Set(ids.map((id) => id.split('#')[1])).size).toBe(1);
  });

  it('fills a cluster of 8 slots with four 16-task jobs, and refuses a fifth naming both numbers', () => {
    const s = scheduler({ w1: 2, w2: 2, w3: 2, w4: 2 });
    for (const job of ['a', 'b', 'c', 'd']) s.place(job, plan(eightChains));
    expect(s.freeSlots()).toBe(0);
    const error = (() => {
      try {
        s.place('e', plan(eightChains));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InsufficientSlotsError);
    expect(error).toMatchObject({ required: 2, available: 0, total: 8 });
    expect((error as Error).message).toBe('job needs 2 slots but the cluster has 0 free of 8');
  });

  it('gives each group its own slots: separate groups add up', () => {
    const s = scheduler({ w1: 4, w2: 4 });
    const p = plan({ src: 2, map: 3, sink: 2 }, { sink: 'sinks' });
    expect(s.requiredSlots(p)).toBe(5);
    const placed = s.place('job', p);
    expect(s.freeSlots()).toBe(3);
    // A sink never shares a worker's slot with the default group's tasks: 5 slots are held.
    expect(placed).toHaveLength(7);
    s.release('job');
    expect(s.freeSlots()).toBe(8);
  });

  it('restarts a failed task in its shared slot when it is the only room (no extra slot)', () => {
    const s = scheduler({ w1: 1 });
    s.place('job', plan({ a: 1, b: 1 }));
    expect(s.freeSlots()).toBe(0);
    expect(s.replace('job', 'b#0', ['w1'])).toEqual({ taskId: 'b#0', workerId: 'w1' });
    expect(s.freeSlots()).toBe(0);
  });

  it('after a worker loss, re-places its tasks into new shared slots on the replacement worker', () => {
    const s = scheduler({ w1: 1, w2: 1 });
    s.place('job', plan({ a: 2, b: 2, c: 2 }));
    expect(s.freeSlots()).toBe(0);
    const lost = s.removeWorker('w2');
    const homeless = [...(lost.get('job') ?? [])];
    expect(homeless.sort()).toEqual(['a#1', 'b#1', 'c#1']);
    // Three homeless tasks of three vertices fit one new shared slot.
    expect(s.slotsToReplace('job', homeless)).toBe(1);
    s.registerWorker({ id: 'w3', endpoint: 'mem://w3', slots: 1 });
    for (const t of homeless) expect(s.replace('job', t, ['w2']).workerId).toBe('w3');
    expect(s.freeSlots()).toBe(0);
    expect(s.slotsToReplace('job', homeless)).toBe(0);
  });

  it('uses room left in a live shared slot before taking a free one', () => {
    const s = scheduler({ w1: 2, w2: 2 });
    // b has parallelism 1: slot 1 (on w2) holds a#1 only and has room for a b task.
    s.place('job', plan({ a: 2, b: 1 }));
    expect(s.freeSlots()).toBe(2);
    expect(s.replace('job', 'b#0', ['w1'])).toEqual({ taskId: 'b#0', workerId: 'w2' });
    // b#0 left slot 0 (a#0 stays there) and joined slot 1: still two slots held.
    expect(s.freeSlots()).toBe(2);
  });

  it('frees a shared slot only when its last task leaves it', () => {
    const s = scheduler({ w1: 1, w2: 1 });
    s.place('job', plan({ a: 1, b: 1 }));
    expect(s.freeSlots()).toBe(1);
    expect(s.replace('job', 'a#0', ['w1']).workerId).toBe('w2');
    expect(s.freeSlots()).toBe(0);
    expect(s.replace('job', 'b#0', ['w1']).workerId).toBe('w2');
    expect(s.freeSlots()).toBe(1);
  });

  it('adopts tasks of one group on one worker into as few shared slots as sharing allows', () => {
    const s = scheduler({ w1: 4 });
    const p = plan({ a: 2, b: 2 });
    s.adopt('job', p, p.tasks.map((t) => ({ taskId: t.id, workerId: 'w1' })));
    expect(s.freeSlots()).toBe(2);
    s.release('job');
    expect(s.freeSlots()).toBe(4);
  });
});
