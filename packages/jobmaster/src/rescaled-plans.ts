import type { ExecutionPlan, LogicalGraph } from '@mobius/interface';
import { planWithOverrides, type ParallelismOverrides } from '@mobius/planner';

/** A stable key of a job's parallelism overrides ('' for none): equal keys, equal plans. */
function overridesKey(overrides: ParallelismOverrides | undefined): string {
  if (overrides === undefined) return '';
  const entries = Object.entries(overrides).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : JSON.stringify(entries);
}

/**
 * The job's plan at its current parallelism overrides (its live rescales so far), as every
 * deployment names them: planned again only when they changed, so a recovery after a rescale
 * builds its tasks with the rescaled channels wherever it lands.
 */
export class RescaledPlans {
  private key = '';

  constructor(
    private readonly graph: LogicalGraph,
    private plan: ExecutionPlan,
  ) {}

  /** The plan last asked for. */
  get current(): ExecutionPlan {
    return this.plan;
  }

  planFor(overrides: ParallelismOverrides | undefined): ExecutionPlan {
    const key = overridesKey(overrides);
    if (key !== this.key) {
      this.plan = planWithOverrides(this.graph, this.plan.jobName, overrides ?? {});
      this.key = key;
    }
    return this.plan;
  }
}
