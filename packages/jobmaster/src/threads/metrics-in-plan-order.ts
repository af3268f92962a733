import type { ExecutionPlan, TaskMetrics } from '@mobius/interface';

/** The counters `latest` holds (taskId → newest attempt's), in the plan's task order, as `TaskHost.metrics()` answers. */
export function metricsInPlanOrder(plan: ExecutionPlan, latest: ReadonlyMap<string, TaskMetrics>): TaskMetrics[] {
  const out: TaskMetrics[] = [];
  for (const p of plan.tasks) {
    const m = latest.get(p.id);
    if (m !== undefined) out.push(m);
  }
  return out;
}
