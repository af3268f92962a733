import { describe, expect, it } from 'vitest';
import type { ExecutionPlan } from '@mobius/interface';
import { placeTasks, taskSlots } from './thread-placement.js';

/** A plan with just what placement reads: vertices (with slot sharing groups) and their tasks. */
function plan(vertices: { id: string; parallelism: number; group?: string }[]): ExecutionPlan {
  return {
    vertices: vertices.map((v) => ({ id: v.id, slotSharingGroup: v.group })),
    tasks: vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, i) => ({ id: `${v.id}#${i}`, vertexId: v.id, index: i }))),
  } as unknown as ExecutionPlan;
}

describe('placeTasks', () => {
  it('puts subtask i of every vertex in slot i, one thread per slot', () => {
    const { threadOf, used } = placeTasks(plan([{ id: 'source-1', parallelism: 2 }, { id: 'reduce-4', parallelism: 2 }]), 4);
    expect(used).toBe(2);
    expect(Object.fromEntries(threadOf)).toEqual({ 'source-1#0': 0, 'source-1#1': 1, 'reduce-4#0': 0, 'reduce-4#1': 1 });
  });

  it('deals slots to fewer threads in turn', () => {
    const { threadOf, used } = placeTasks(plan([{ id: 'a', parallelism: 4 }, { id: 'b', parallelism: 3 }]), 2);
    expect(used).toBe(2);
    expect(Object.fromEntries(threadOf)).toEqual({ 'a#0': 0, 'a#1': 1, 'a#2': 0, 'a#3': 1, 'b#0': 0, 'b#1': 1, 'b#2': 0 });
  });

  it('gives each slot sharing group slots of its own', () => {
    const { threadOf, used } = placeTasks(plan([{ id: 'a', parallelism: 2 }, { id: 'b', parallelism: 2, group: 'heavy' }]), 8);
    expect(used).toBe(4);
    expect(new Set(threadOf.values()).size).toBe(4);
    expect(threadOf.get('b#0')).not.toBe(threadOf.get('a#0'));
  });

  it('refuses a thread count that is not a positive integer', () => {
    expect(() => placeTasks(plan([{ id: 'a', parallelism: 1 }]), 0)).toThrow(/positive integer/);
  });
});

describe('taskSlots', () => {
  it('puts subtask i on thread i mod slots, each slot sharing group shifted by its ordinal', () => {
    const slots = taskSlots(plan([{ id: 'a', parallelism: 3 }, { id: 'b', parallelism: 2, group: 'heavy' }, { id: 'c', parallelism: 2 }]), 2);
    expect(Object.fromEntries(slots)).toEqual({ 'a#0': 0, 'a#1': 1, 'a#2': 0, 'b#0': 1, 'b#1': 0, 'c#0': 0, 'c#1': 1 });
  });
  it('gives a task the same thread whatever the parallelism of the other vertices', () => {
    const small = taskSlots(plan([{ id: 'a', parallelism: 2 }, { id: 'b', parallelism: 1 }]), 3);
    const large = taskSlots(plan([{ id: 'a', parallelism: 2 }, { id: 'b', parallelism: 5 }]), 3);
    expect([small.get('a#0'), small.get('a#1'), small.get('b#0')]).toEqual([large.get('a#0'), large.get('a#1'), large.get('b#0')]);
  });
  it('refuses a slot count that is not a positive integer', () => {
    expect(() => taskSlots(plan([{ id: 'a', parallelism: 1 }]), 0)).toThrow(/positive integer/);
  });
});
