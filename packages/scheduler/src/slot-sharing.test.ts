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

const s4 = (): ReturnType<typeof scheduler> => scheduler({ w1: 2, w2: 2 });

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
  it('admits the 16-task job (8 chains × p=2) on 2 free slots: one task of each vertex per slot', () => {
    const s = scheduler({ w1: 1, w2: 1 });
    const p = plan(eightChains);
    expect(s.requiredSlots(p)).toBe(2);
    const placed = s.place('job', p);
    expect(placed).toHaveLength(16);
    expect(s.freeSlots()).toBe(0);
    const workers = byWorker(placed);
    expect([...workers.values()].map((ids) => ids.length)).toEqual([8, 8]);
    for (const ids of workers.values()) expect(new Set(ids.map((id) => id.split('#')[0])).size).toBe(8);
  });

  it('spreads over spare free slots, up to one per task: 16 tasks in 8 slots, no vertex twice in a slot', () => {
    const s = scheduler({ w1: 2, w2: 2, w3: 2, w4: 2 });
    const placed = s.place('job', plan(eightChains));
    expect(s.freeSlots()).toBe(0);
    const workers = byWorker(placed);
    expect([...workers.values()].map((ids) => ids.length)).toEqual([4, 4, 4, 4]);
    // Two slots per worker hold at most two tasks of one vertex there.
    for (const ids of workers.values()) {
      const perVertex = new Map<string, number>();
      for (const id of ids) perVertex.set(id.split('#')[0], (perVertex.get(id.split('#')[0]) ?? 0) + 1);
      expect(Math.max(...perVertex.values())).toBeLessThanOrEqual(2);
    }
    // A vertex's two tasks are on two workers.
    for (const v of Object.keys(eightChains)) {
      expect(placed.find((p) => p.taskId === `${v}#0`)?.workerId).not.toBe(placed.find((p) => p.taskId === `${v}#1`)?.workerId);
    }
  });

  it('admits a 16-task job on the last 2 free slots of 8, and refuses the next naming both numbers', () => {
    const s = scheduler({ w1: 2, w2: 2, w3: 2, w4: 2 });
    s.place('filler', plan({ x: 6 }));
    expect(s.freeSlots()).toBe(2);
    expect(s.place('job', plan(eightChains))).toHaveLength(16);
    expect(s.freeSlots()).toBe(0);
    const error = (() => {
      try {
        s.place('next', plan(eightChains));
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
    const p = plan({ src: 2, map: 3, sink: 2 }, { sink: 'sinks' });
    expect(s4().requiredSlots(p)).toBe(5);
    expect(() => s4().place('job', p)).toThrow(InsufficientSlotsError);
    const s = scheduler({ w1: 3, w2: 2 });
    const placed = s.place('job', p);
    expect(placed).toHaveLength(7);
    expect(s.freeSlots()).toBe(0);
    s.release('job');
    expect(s.freeSlots()).toBe(5);
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
    s.registerWorker({ id: 'w3', endpoint: 'mem://w3', slots: 1 });
    for (const t of homeless) expect(s.replace('job', t, ['w2']).workerId).toBe('w3');
    expect(s.freeSlots()).toBe(0);
  });

  it('uses room left in a live shared slot when no slot is free', () => {
    const s = scheduler({ w1: 1, w2: 1 });
    // Two slots: a#0 with b#0 on w1, a#1 alone on w2 (room for a b task).
    s.place('job', plan({ a: 2, b: 1 }));
    expect(s.freeSlots()).toBe(0);
    expect(s.replace('job', 'b#0', ['w1'])).toEqual({ taskId: 'b#0', workerId: 'w2' });
    // b#0 left the slot on w1 (a#0 stays there) and joined the one on w2: still two slots held.
    expect(s.freeSlots()).toBe(0);
    expect(s.placements('job')).toHaveLength(3);
  });

  it('prefers a free slot over room (spreading), and frees a shared slot only when its last task leaves', () => {
    const s = scheduler({ w1: 1 });
    s.place('job', plan({ a: 1, b: 1 }));
    s.registerWorker({ id: 'w2', endpoint: 'mem://w2', slots: 1 });
    expect(s.freeSlots()).toBe(1);
    expect(s.replace('job', 'a#0', ['w1']).workerId).toBe('w2');
    expect(s.freeSlots()).toBe(0);
    // No free slot left: b#0 joins a#0's slot on w2, and the slot on w1 is freed.
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
