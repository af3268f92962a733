import { DEFAULT_SLOT_SHARING_GROUP, type ExecutionPlan, type PlanTask } from '@mobius/interface';
import { SchedulerError } from './errors.js';

/** One slot-sharing group of a plan: its vertices' tasks, each list sorted by task index. */
export interface SlotSharingGroup {
  readonly name: string;
  /** vertex id → its tasks by index; in `plan.vertices` order. */
  readonly vertices: ReadonlyMap<string, readonly PlanTask[]>;
  /** Slots the group takes: its largest vertex parallelism. */
  readonly slots: number;
}

/**
 * A slot held by one job for one group: it holds at most one task of each vertex of the group,
 * so tasks of a chain of operators at parallelism p share p slots (Flink's shared slots).
 */
export interface SharedSlot {
  readonly group: string;
  readonly workerId: string;
  /** vertex id → the task of that vertex in this slot. */
  readonly tasks: Map<string, string>;
}

/**
 * The plan's slot-sharing groups, in order of first appearance. Tasks of a vertex missing from
 * `plan.vertices` are still placed (in `default`) because the contract is one placement per
 * task; duplicate task ids are rejected since they would take one place twice.
 */
export function slotSharingGroups(plan: ExecutionPlan): SlotSharingGroup[] {
  const groupOf = new Map<string, string>();
  const byVertex = new Map<string, PlanTask[]>();
  for (const vertex of plan.vertices) {
    groupOf.set(vertex.id, vertex.slotSharingGroup ?? DEFAULT_SLOT_SHARING_GROUP);
    byVertex.set(vertex.id, []);
  }
  const seen = new Set<string>();
  for (const task of plan.tasks) {
    if (seen.has(task.id)) {
      throw new SchedulerError('INVALID_PLAN', `plan "${plan.jobName}" lists task "${task.id}" more than once`);
    }
    seen.add(task.id);
    const list = byVertex.get(task.vertexId);
    if (list) list.push(task);
    else byVertex.set(task.vertexId, [task]);
  }
  const groups = new Map<string, Map<string, PlanTask[]>>();
  for (const [vertexId, tasks] of byVertex) {
    if (tasks.length === 0) continue;
    tasks.sort((a, b) => a.index - b.index);
    const name = groupOf.get(vertexId) ?? DEFAULT_SLOT_SHARING_GROUP;
    const group = groups.get(name) ?? new Map<string, PlanTask[]>();
    group.set(vertexId, tasks);
    groups.set(name, group);
  }
  return [...groups].map(([name, vertices]) => ({
    name,
    vertices,
    slots: Math.max(...[...vertices.values()].map((t) => t.length)),
  }));
}

/** Slots a plan takes: per group its largest parallelism, summed over the groups. */
export function requiredSlots(plan: ExecutionPlan): number {
  let sum = 0;
  for (const group of slotSharingGroups(plan)) sum += group.slots;
  return sum;
}
