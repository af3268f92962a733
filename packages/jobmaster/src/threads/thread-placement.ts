import type { ExecutionPlan } from '@mobius/interface';

/**
 * Which thread runs each task, as Flink fills a TaskManager's slots: subtask i of every vertex
 * of a slot sharing group shares slot i, so a pipeline (source → map → reduce of one index)
 * stays in one thread, and the slots are dealt to the threads in turn. Returns taskId → thread
 * index, and how many threads the job uses (at most `threads`, at most its slots).
 */
export function placeTasks(plan: ExecutionPlan, threads: number): { readonly threadOf: ReadonlyMap<string, number>; readonly used: number } {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${String(threads)}`);
  const groupOf = new Map(plan.vertices.map((v) => [v.id, v.slotSharingGroup ?? 'default']));
  const slots = new Map<string, number>();
  const threadOf = new Map<string, number>();
  for (const task of plan.tasks) {
    const slot = `${groupOf.get(task.vertexId) ?? 'default'}#${task.index}`;
    let ordinal = slots.get(slot);
    if (ordinal === undefined) slots.set(slot, (ordinal = slots.size));
    threadOf.set(task.id, ordinal % threads);
  }
  return { threadOf, used: Math.min(threads, Math.max(1, slots.size)) };
}

/**
 * The task thread (slot) of each task on a worker with `slots` task threads, as both the worker
 * and the job master compute it: subtask i of a slot sharing group goes to thread
 * `(i + ordinal of the group) mod slots`. It reads nothing but the task's own vertex and index,
 * so a task keeps its thread whatever else the job deploys: a single-task recovery puts the new
 * attempt on the same thread index, and the job master knows its endpoint without asking.
 */
export function taskSlots(plan: ExecutionPlan, slots: number): ReadonlyMap<string, number> {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${String(slots)}`);
  const groupOrdinal = new Map<string, number>([['default', 0]]);
  const ordinalOf = new Map<string, number>();
  for (const v of plan.vertices) {
    const group = v.slotSharingGroup ?? 'default';
    if (!groupOrdinal.has(group)) groupOrdinal.set(group, groupOrdinal.size);
    ordinalOf.set(v.id, groupOrdinal.get(group)!);
  }
  const slotOf = new Map<string, number>();
  for (const task of plan.tasks) slotOf.set(task.id, (task.index + (ordinalOf.get(task.vertexId) ?? 0)) % slots);
  return slotOf;
}
