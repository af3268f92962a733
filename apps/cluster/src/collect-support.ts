import { MobiusError, type ExecutionPlan } from '@mobius/interface';

/**
 * Refuses a job that ends in a collect sink (`executeAndCollect()`, `collectAsync()`): on a
 * cluster its records have no way back to a caller yet, and its tasks would fail at open on
 * every worker and be restarted until the restart strategy gives up. Refused at submit instead,
 * with the reason and what to do.
 */
export function refuseCollectSinks(plan: ExecutionPlan): void {
  const collect = plan.operators.find((o) => o.kind === 'collect');
  if (collect === undefined) return;
  throw new MobiusError(
    'COLLECT_UNSUPPORTED',
    `job "${plan.jobName}" ends in a collect sink ("${collect.name}", ${collect.id}) from executeAndCollect() or collectAsync(), whose records cannot reach a caller on a cluster yet: run the job embedded (mobius run), or end it in a sink`,
  );
}
