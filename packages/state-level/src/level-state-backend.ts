import { StateError, type StateBackend, type TaskStateScope } from '@mobius/interface';
import type { LevelStateBackendOptions } from './level-state-options.js';
import { LevelTaskState } from './level-task-state.js';

// The index exports these from this file, where they were before LevelTaskState got its own files.
export { LevelTaskState } from './level-task-state.js';
export type { LevelStateBackendOptions, LevelStateSnapshot, LevelStateStats } from './level-state-options.js';

/**
 * The state backend on LevelDB: state on disk with a bounded in-memory cache, laid out by
 * key group, with incremental snapshots.
 *
 * ```ts
 * const backend = new LevelStateBackend({ directory: '/var/lib/mobius/state', cacheEntries: 50_000 });
 * ```
 */
export class LevelStateBackend implements StateBackend {
  readonly kind = 'level';
  readonly options: LevelStateBackendOptions;

  constructor(options: LevelStateBackendOptions) {
    if (typeof options?.directory !== 'string' || options.directory === '') throw new StateError('STATE_FAILED', 'LevelStateBackend needs a directory');
    this.options = { ...options };
  }

  /** The state of one task; its database opens in the background (`ready`). */
  create(scope: TaskStateScope): LevelTaskState {
    return new LevelTaskState(scope, this.options);
  }

  /** Like `create`, resolved once the database is open. */
  async open(scope: TaskStateScope): Promise<LevelTaskState> {
    const task = this.create(scope);
    await task.ready;
    return task;
  }
}
