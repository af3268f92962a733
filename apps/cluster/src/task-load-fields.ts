import { TASK_LOAD_FIELDS, type TaskLoadField, type TaskMetrics } from '@mobius/interface';
import type { ClusterTask } from './cluster-job.js';

/** A gauge's value: the figure, or NaN when there is none (absent, null or not finite). */
export const finiteOrNaN = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/**
 * A task's load as the coordinator last heard it, or undefined when it has none to show: a
 * task that is not running keeps the figures of its last report, which no longer hold.
 */
export function currentLoad(task: ClusterTask): TaskMetrics | undefined {
  return task.state === 'RUNNING' && task.metrics?.busyTimeMsPerSecond !== undefined ? task.metrics : undefined;
}

/** A task's load fields for `GET /jobs/:id`: null where it reports none (not running, or no true rate in its window). */
export function loadFieldsOf(task: ClusterTask): Record<TaskLoadField, number | null> {
  const m = currentLoad(task);
  const out = {} as Record<TaskLoadField, number | null>;
  for (const f of TASK_LOAD_FIELDS) out[f] = m?.[f] ?? null;
  return out;
}
