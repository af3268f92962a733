import type { SinkFunction } from './functions.js';

/**
 * A function with state of its own in checkpoints: a source's offset, a sink's transactions.
 * The runtime calls these hooks on any rich function of a chain that has them.
 */
export interface CheckpointedFunction {
  /**
   * At the barrier of checkpoint `checkpointId` (all records before it were given to the
   * function): returns the function's state for the checkpoint. A two-phase-commit sink
   * pre-commits here (its data is durable but not yet visible).
   */
  snapshotState(checkpointId: number): unknown | Promise<unknown>;
  /**
   * On a restore, after open(), with the state snapshotState returned for the restored
   * checkpoint. A two-phase-commit sink commits what it pre-committed there (the checkpoint
   * completed, or it would not be restored) and drops anything newer.
   */
  restoreState(state: unknown): void | Promise<void>;
  /** Checkpoint `checkpointId` completed in every task: a two-phase-commit sink commits it. */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
}

/**
 * An exactly-once sink (two-phase commit): pre-commit at the barrier (`snapshotState`), commit
 * when the checkpoint completes (`notifyCheckpointComplete`), recover on restore
 * (`restoreState`), and commit what is left at the end of a bounded input (`finish`). A plain
 * `sink(fn)` is at-least-once: after a restore it sees the records since the checkpoint again.
 */
export interface TwoPhaseCommitSinkFunction<T> extends SinkFunction<T>, CheckpointedFunction {
  notifyCheckpointComplete(checkpointId: number): void | Promise<void>;
  /** The input ended (the job is finishing): make everything written so far visible. */
  finish(): void | Promise<void>;
}
