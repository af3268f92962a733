import type { TaskMetrics } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { testPlan } from '../test-fixtures.js';
import { autoscalerInput } from './autoscaler-input.js';

const metrics = (taskId: string, busy: number): TaskMetrics => ({
  taskId,
  vertexName: taskId.split('#')[0],
  recordsIn: 0,
  recordsOut: 0,
  attempt: 0,
  busyTimeMsPerSecond: busy,
  recordsInPerSecond: busy,
});

describe('autoscalerInput', () => {
  const plan = testPlan({}, [
    { id: 'source', parallelism: 1 },
    { id: 'map', parallelism: 2 },
    { id: 'sink', parallelism: 1 },
  ]);

  it('one vertex per plan vertex, with its upstream vertices, the job\'s max parallelism, and sources not rescalable', () => {
    const input = autoscalerInput(plan, [], 7);
    expect(input.freeSlots).toBe(7);
    expect(input.vertices.map((v) => [v.vertexId, v.parallelism, v.upstream, v.source, v.rescalable, v.maxParallelism])).toEqual([
      ['source', 1, [], true, false, 128],
      ['map', 2, ['source'], false, undefined, 128],
      ['sink', 1, ['map'], false, undefined, 128],
    ]);
    expect(input.vertices.every((v) => v.backlogGrowthPerSecond === undefined)).toBe(true);
  });

  it('each vertex gets the figures of its own tasks; a task the plan does not know (retired by a rescale) counts for nothing', () => {
    const input = autoscalerInput(plan, [metrics('map#0', 500), metrics('map#1', 600), metrics('map#2', 900), metrics('sink#0', 10)]);
    const byId = new Map(input.vertices.map((v) => [v.vertexId, v]));
    expect(byId.get('map')!.tasks.map((t) => t.busyTimeMsPerSecond)).toEqual([500, 600]);
    expect(byId.get('sink')!.tasks.map((t) => t.busyTimeMsPerSecond)).toEqual([10]);
    expect(byId.get('source')!.tasks).toEqual([]);
    expect('freeSlots' in input).toBe(false);
  });

  it('reads upstream vertices from channelled edges only, once each, and keeps a vertex\'s slot-sharing group', () => {
    const shared = {
      ...plan,
      vertices: plan.vertices.map((v) => (v.id === 'map' ? { ...v, slotSharingGroup: 'heavy' } : v)),
      // A second edge between the same vertices (e.g. a side output) and a chained edge inside a vertex.
      edges: [...plan.edges, { ...plan.edges[0], id: 'source[late]->map', sideOutput: 'late' }, { ...plan.edges[1], id: 'inner', sourceVertex: 'sink', chained: true }],
    };
    const byId = new Map(autoscalerInput(shared, []).vertices.map((v) => [v.vertexId, v]));
    expect(byId.get('map')!.upstream).toEqual(['source']);
    expect(byId.get('map')!.slotSharingGroup).toBe('heavy');
    expect(byId.get('sink')!.upstream).toEqual(['map']);
  });
});
