import type { TaskMetrics } from '@mobius/interface';
import type { ClusterTask } from './cluster-job.js';

/** The load figures of `TaskMetrics`, in the order `GET /jobs/:id` lists them. */
export const LOAD_FIELDS = [
  'busyTimeMsPerSecond',
  'backPressuredTimeMsPerSecond',
  'idleTimeMsPerSecond',
  'recordsInPerSecond',
  'recordsOutPerSecond',
  'trueProcessingRate',
  'trueOutputRate',
] as const satisfies readonly (keyof TaskMetrics)[];

export type LoadField = (typeof LOAD_FIELDS)[number];

/**
 * A task's load as the coordinator last heard it, or undefined when it has none to show: a
 * task that is not running keeps the figures of its last report, which no longer hold.
 */
export function currentLoad(task: ClusterTask): TaskMetrics | undefined {
  return task.state === 'RUNNING' && task.metrics?.busyTimeMsPerSecond !== undefined ? task.metrics : undefined;
}

/** A task's load fields for `GET /jobs/:id`: null where it reports none (not running, or no true rate in its window). */
export function loadFieldsOf(task: ClusterTask): Record<LoadField, number | null> {
  const m = currentLoad(task);
  const out = {} as Record<LoadField, number | null>;
  for (const f of LOAD_FIELDS) out[f] = m?.[f] ?? null;
  return out;
}
