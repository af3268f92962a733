import type { ExecutionPlan, PlanTask, PlanVertex } from '@mobius/interface';
import { SlotScheduler } from './slot-scheduler.js';

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

/** A scheduler with the given workers (id → slots), registered in this order. */
export function scheduler(workers: Record<string, number>): SlotScheduler {
  const s = new SlotScheduler();
  for (const [id, slots] of Object.entries(workers)) s.registerWorker({ id, endpoint: `mem://${id}`, slots });
  return s;
}
