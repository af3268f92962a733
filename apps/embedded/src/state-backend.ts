import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionPlan, StateBackend, StateSnapshot } from '@mobius/interface';
import { MemoryStateBackend } from '@mobius/runtime';
import { LevelStateBackend, compactLevelSnapshots } from '@mobius/state-level';

/** Where the LevelDB backend keeps task databases: `<tmp>/mobius-state/<jobId>/...`. */
const LEVEL_ROOT = join(tmpdir(), 'mobius-state');

/** Incremental LevelDB snapshots: at most this many deltas follow a full one. */
const MAX_INCREMENTAL_CHAIN = 10;

/**
 * The state backend a job asks for (`state.backend`). The LevelDB backend's snapshots are
 * incremental: only what changed since the previous one, a full one every
 * MAX_INCREMENTAL_CHAIN + 1 (and for savepoints); a restore reads the base and its deltas.
 */
export function stateBackendFor(plan: ExecutionPlan): StateBackend {
  if (plan.config['state.backend'] === 'level') {
    return new LevelStateBackend({
      directory: LEVEL_ROOT,
      cacheEntries: plan.config['state.level.cache-entries'] as number,
      incremental: true,
      maxIncrementalChain: MAX_INCREMENTAL_CHAIN,
    });
  }
  return new MemoryStateBackend();
}

/**
 * Completed checkpoints to keep: `checkpoint.retained`, but never fewer than an incremental
 * chain, so the base of every retained checkpoint is still in the store.
 */
export function retainedCheckpoints(plan: ExecutionPlan): number {
  const retained = plan.config['checkpoint.retained'] as number;
  return plan.config['state.backend'] === 'level' ? Math.max(retained, MAX_INCREMENTAL_CHAIN + 1) : retained;
}

/** Removes what a job's state backend left on disk once the job (or its tasks here) ended. */
export function disposeJobState(plan: ExecutionPlan, jobId: string): void {
  if (plan.config['state.backend'] === 'level') rmSync(join(LEVEL_ROOT, jobId), { recursive: true, force: true });
}

/**
 * How a job's completed checkpoints are compacted in the background (incremental LevelDB
 * chains merged into full snapshots), or undefined when its state needs none.
 */
export function compactorFor(plan: ExecutionPlan): ((chain: readonly object[]) => object) | undefined {
  if (plan.config['state.backend'] !== 'level') return undefined;
  return (chain) => compactLevelSnapshots(chain as readonly StateSnapshot[]);
}
