import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionPlan, StateBackend } from '@mobius/interface';
import { MemoryStateBackend } from '@mobius/runtime';
import { LevelStateBackend } from '@mobius/state-level';

/** Where the LevelDB backend keeps task databases: `<tmp>/mobius-state/<jobId>/...`. */
const LEVEL_ROOT = join(tmpdir(), 'mobius-state');

/**
 * The state backend a job asks for (`state.backend`). The LevelDB backend takes full snapshots
 * here: incremental ones need their base checkpoints kept past `checkpoint.retained`, which the
 * checkpoint store does not track yet.
 */
export function stateBackendFor(plan: ExecutionPlan): StateBackend {
  if (plan.config['state.backend'] === 'level') {
    return new LevelStateBackend({ directory: LEVEL_ROOT, cacheEntries: plan.config['state.level.cache-entries'] as number, incremental: false });
  }
  return new MemoryStateBackend();
}

/** Removes what a job's state backend left on disk once the job (or its tasks here) ended. */
export function disposeJobState(plan: ExecutionPlan, jobId: string): void {
  if (plan.config['state.backend'] === 'level') rmSync(join(LEVEL_ROOT, jobId), { recursive: true, force: true });
}
