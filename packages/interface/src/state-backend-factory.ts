import type { ConfigKeyDeclaration, ConfigMap } from './config.js';
import type { StateBackend, StateSnapshot } from './state.js';

/**
 * How an app obtains a state backend plugin: the value of `state.backend` names the factory
 * (`kind`), and the factory declares its own config keys, which the app registers when it loads
 * the plugin (see StateBackendRegistry). The engine never imports a plugin; it receives what a
 * factory creates.
 */
export interface StateBackendFactory {
  /** The value of `state.backend` that chooses this backend, e.g. `memory`. */
  readonly kind: string;
  /** The backend's own config keys (type, default, doc), validated like the engine's. */
  readonly options: readonly ConfigKeyDeclaration[];
  /** A backend for one job, configured from the job's resolved config (a plan's). */
  create(config: ConfigMap): StateBackend;
  /**
   * Fewest completed checkpoints to keep so that each retained one still restores (an
   * incremental backend keeps the base of its chains). Absent: `checkpoint.retained` alone.
   */
  minRetainedCheckpoints?(config: ConfigMap): number;
  /**
   * Merges the snapshot chain of one operator of one task (a full snapshot, then its deltas,
   * oldest first) into one full snapshot. Absent when every snapshot is full.
   */
  compact?(chain: readonly StateSnapshot[]): StateSnapshot;
  /** Removes what the backend left on disk for a job once the job (or its tasks in this process) ended. */
  dispose?(jobId: string): void;
}
