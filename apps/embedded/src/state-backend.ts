import { StateBackendRegistry, type ExecutionPlan, type StateBackend } from '@mobius/interface';
import { memoryStateBackendFactory } from '@mobius/runtime';
import { levelStateBackendFactory } from '@mobius/state-level';

/**
 * The state backends `mobius` ships, chosen by `state.backend`. Loading this module registers
 * their config keys, so a job that sets `state.level.cache-entries` plans in this process.
 */
export const stateBackends = new StateBackendRegistry([memoryStateBackendFactory, levelStateBackendFactory]);

/** The state backend a job asks for (`state.backend`). */
export function stateBackendFor(plan: ExecutionPlan): StateBackend {
  return stateBackends.create(plan.config);
}

/** Completed checkpoints to keep: `checkpoint.retained`, but never fewer than the backend needs. */
export function retainedCheckpoints(plan: ExecutionPlan): number {
  return stateBackends.retainedCheckpoints(plan.config);
}

/** Removes what a job's state backend left on disk once the job (or its tasks here) ended. */
export function disposeJobState(plan: ExecutionPlan, jobId: string): void {
  stateBackends.dispose(plan.config, jobId);
}

/** How a job's completed checkpoints are compacted in the background, or undefined when they need none. */
export function compactorFor(plan: ExecutionPlan): ((chain: readonly object[]) => object) | undefined {
  return stateBackends.compactor(plan.config);
}
