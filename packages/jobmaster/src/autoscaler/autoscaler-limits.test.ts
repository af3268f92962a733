import { describe, expect, it } from 'vitest';
import { capParallelism, fitFreeSlots, type AutoscalerDecision } from './autoscaler-limits.js';
import type { VertexLoad } from './vertex-load.js';

const v = (vertexId: string, parallelism: number, slotSharingGroup?: string, maxParallelism = 128): VertexLoad => ({
  vertexId,
  parallelism,
  maxParallelism,
  tasks: [],
  upstream: [],
  source: true,
  ...(slotSharingGroup !== undefined ? { slotSharingGroup } : {}),
});
const change = (vertex: string, from: number, to: number): AutoscalerDecision => ({ vertex, from, to, wanted: to });

describe('capParallelism', () => {
  it('names the lower of the two limits', () => {
    expect(capParallelism(10, v('m', 1, undefined, 6), 8)).toEqual({ to: 6, limitedBy: 'max-parallelism' });
    expect(capParallelism(10, v('m', 1, undefined, 6), 4)).toEqual({ to: 4, limitedBy: 'autoscaler.max-parallelism' });
    expect(capParallelism(5, v('m', 1, undefined, 6), 8)).toEqual({ to: 5 });
  });
});

describe('fitFreeSlots', () => {
  it('lets a raise that stays under its group maximum cost no slot', () => {
    const vertices = [v('a', 4), v('b', 1)];
    expect(fitFreeSlots(vertices, [change('b', 1, 4)], 0)).toEqual({ decisions: [change('b', 1, 4)], notes: [] });
  });

  it('lowers first and gives the freed slots to raises of another group', () => {
    const vertices = [v('x', 4, 'a'), v('y', 1, 'b')];
    const { decisions, notes } = fitFreeSlots(vertices, [change('y', 1, 4), change('x', 4, 1)], 0);
    expect(decisions).toEqual([change('x', 4, 1), change('y', 1, 4)]);
    expect(notes).toEqual([]);
  });

  it('shares what is free among groups in order, and notes what it held back', () => {
    const vertices = [v('x', 1, 'a'), v('y', 1, 'b')];
    const { decisions, notes } = fitFreeSlots(vertices, [change('x', 1, 3), change('y', 1, 3)], 3);
    expect(decisions).toEqual([change('x', 1, 3), { ...change('y', 1, 2), wanted: 3, limitedBy: 'free-slots' }]);
    expect(notes).toEqual(['"y" held at 2 of 3 by the free slots (2 more needed in slot-sharing group "b", 1 free)']);
  });

  it('drops a raise that no free slot allows', () => {
    const { decisions, notes } = fitFreeSlots([v('x', 2)], [change('x', 2, 5)], 0);
    expect(decisions).toEqual([]);
    expect(notes[0]).toContain('3 more needed');
  });
});
