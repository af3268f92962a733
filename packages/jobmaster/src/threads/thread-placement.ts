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
