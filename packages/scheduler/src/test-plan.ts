import type { ExecutionPlan, PlanTask, PlanVertex } from '@mobius/interface';

/**
 * A plan with the given vertices (id → parallelism) and, optionally, their slot-sharing groups;
 * only vertices and tasks matter to placement.
 */
export function plan(vertices: Record<string, number>, groups: Record<string, string> = {}): ExecutionPlan {
  const planVertices: PlanVertex[] = [];
  const tasks: PlanTask[] = [];
  for (const [id, parallelism] of Object.entries(vertices)) {
    const group = groups[id];
    planVertices.push({ id, name: id, operatorIds: [id], parallelism, ...(group !== undefined ? { slotSharingGroup: group } : {}) });
    for (let index = 0; index < parallelism; index++) {
      tasks.push({ id: `${id}#${index}`, vertexId: id, index, keyGroups: { start: 0, end: 0 } });
    }
  }
  return {
    jobName: 'test',
    graphHash: '',
    maxParallelism: 128,
    config: {},
    operators: [],
    vertices: planVertices,
    edges: [],
    tasks,
    channels: [],
  };
}
