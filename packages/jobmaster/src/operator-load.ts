import type { ExecutionPlan, TaskMetrics } from '@mobius/interface';

/**
 * The load of one operator: its tasks' figures (see `TaskMetrics`) put together. Operators
 * chained into one vertex run in the same tasks, so they share their vertex's figures. Fields
 * are null while no task of the vertex reports load (none running yet, or the job ended).
 */
export interface OperatorLoad {
  readonly operatorId: string;
  readonly name: string;
  readonly vertexId: string;
  readonly parallelism: number;
  /** Tasks of the vertex whose load is in the figures (the running ones). */
  readonly tasksReporting: number;
  /** Mean over the reporting tasks. */
  readonly busyTimeMsPerSecond: number | null;
  /** The busiest task's: a hot key or an uneven partitioning shows as a max far above the mean. */
  readonly maxBusyTimeMsPerSecond: number | null;
  /** Mean over the reporting tasks. */
  readonly backPressuredTimeMsPerSecond: number | null;
  /** Mean over the reporting tasks. */
  readonly idleTimeMsPerSecond: number | null;
  /** Sum over the reporting tasks. */
  readonly recordsInPerSecond: number | null;
  /** Sum over the reporting tasks. */
  readonly recordsOutPerSecond: number | null;
  /**
   * Sum of the tasks' true processing rates: what the operator could take at its parallelism
   * with no idle or backpressured time. Tasks that were not busy in the window have no rate and
   * are left out; null when none has one.
   */
  readonly trueProcessingRate: number | null;
  /** Sum of the tasks' true output rates, as `trueProcessingRate`. */
  readonly trueOutputRate: number | null;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Sums (or averages) `tasks`' load per operator of `plan`, in the plan's operator order. */
export function operatorLoads(plan: ExecutionPlan, tasks: readonly TaskMetrics[]): OperatorLoad[] {
  const vertexOf = new Map(plan.tasks.map((t) => [t.id, t.vertexId]));
  const byVertex = new Map<string, TaskMetrics[]>();
  for (const m of tasks) {
    const vertex = vertexOf.get(m.taskId);
    if (vertex === undefined || m.busyTimeMsPerSecond === undefined) continue;
    let list = byVertex.get(vertex);
    if (list === undefined) byVertex.set(vertex, (list = []));
    list.push(m);
  }
  const loads = new Map<string, Omit<OperatorLoad, 'operatorId' | 'name' | 'vertexId' | 'parallelism'>>();
  for (const v of plan.vertices) loads.set(v.id, vertexLoad(byVertex.get(v.id) ?? []));
  return plan.operators.map((op) => ({ operatorId: op.id, name: op.name, vertexId: op.vertexId, parallelism: op.parallelism, ...loads.get(op.vertexId)! }));
}

function vertexLoad(tasks: readonly TaskMetrics[]): Omit<OperatorLoad, 'operatorId' | 'name' | 'vertexId' | 'parallelism'> {
  const n = tasks.length;
  const sum = (f: (m: TaskMetrics) => number | undefined): number | null => {
    let total = 0;
    let any = false;
    for (const m of tasks) {
      const v = f(m);
      if (v === undefined) continue;
      total += v;
      any = true;
    }
    return any ? round2(total) : null;
  };
  const mean = (f: (m: TaskMetrics) => number | undefined): number | null => {
    const total = sum(f);
    return total === null ? null : round2(total / n);
  };
  let maxBusy: number | null = null;
  for (const m of tasks) if (maxBusy === null || m.busyTimeMsPerSecond! > maxBusy) maxBusy = m.busyTimeMsPerSecond!;
  return {
    tasksReporting: n,
    busyTimeMsPerSecond: mean((m) => m.busyTimeMsPerSecond),
    maxBusyTimeMsPerSecond: maxBusy,
    backPressuredTimeMsPerSecond: mean((m) => m.backPressuredTimeMsPerSecond),
    idleTimeMsPerSecond: mean((m) => m.idleTimeMsPerSecond),
    recordsInPerSecond: sum((m) => m.recordsInPerSecond),
    recordsOutPerSecond: sum((m) => m.recordsOutPerSecond),
    trueProcessingRate: sum((m) => m.trueProcessingRate),
    trueOutputRate: sum((m) => m.trueOutputRate),
  };
}
