import type { StateKey, StateSnapshot } from './state.js';

/** Durable record of one completed checkpoint. */
export interface CheckpointMetadata {
  readonly jobId: string;
  readonly checkpointId: number;
  readonly timestamp: number;
  /** taskId → handle returned by writeTaskState. */
  readonly tasks: Readonly<Record<string, string>>;
  readonly savepoint: boolean;
}

/** Where checkpoint data and metadata are kept. */
export interface CheckpointStore {
  readonly kind: string;
  /** Writes one task's snapshot; returns a handle to read it back. */
  writeTaskState(jobId: string, checkpointId: number, taskId: string, data: Uint8Array): Promise<string>;
  readTaskState(handle: string): Promise<Uint8Array>;
  /** The payload bytes of a task's state, without reading it (for a figure such as a rescale's `bytesMoved`). */
  taskStateSize?(handle: string): Promise<number>;
  /** Records a checkpoint as complete (durably). */
  complete(metadata: CheckpointMetadata): Promise<void>;
  /** Completed checkpoints of a job, oldest first. */
  list(jobId: string): Promise<readonly CheckpointMetadata[]>;
  discard(jobId: string, checkpointId: number): Promise<void>;
  /**
   * The newest completed checkpoint whose task state verifies (a corrupt one is skipped with a
   * warning): what a restore uses.
   */
  latestValid(jobId: string): Promise<CheckpointMetadata | undefined>;
  /** Where one checkpoint lives, as shown to users (a folder for the filesystem store). */
  checkpointDirectory(jobId: string, checkpointId: number): string;
  close(): Promise<void>;
}

/**
 * One task's part of a checkpoint: the state of each operator of its chain, the source's
 * offset, and per-channel sequence numbers (the last record read on each input channel, the
 * next sequence number of each output channel), so that a restore resumes exactly there.
 */
export interface TaskSnapshot {
  readonly taskId: string;
  readonly checkpointId: number;
  /** Operator id → that operator's state. */
  readonly operators: Readonly<Record<string, StateSnapshot>>;
  /** The source function's offset (`snapshotState()`), for source tasks. */
  readonly source?: unknown;
  /** Operator id → the state its function returned from `snapshotState(checkpointId)` (e.g. a sink's pre-committed files). */
  readonly functions?: Readonly<Record<string, unknown>>;
  /** Plan channel id → sequence number of the last record read from it. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Plan channel id → sequence number the next record sent on it gets. */
  readonly outputs: Readonly<Record<string, number>>;
  /** Position (`n`) of the last entry of the task's determinant log at the barrier; -1: none. */
  readonly determinants?: number;
  /** Plan edge id → position of a round-robin writer, so a restarted task routes records as before. */
  readonly writers?: Readonly<Record<string, number>>;
  /** The task's input watermark at the barrier (absent: none yet, `-Infinity`). */
  readonly watermark?: number;
  /** Operator id → that operator's registered timers, each with its key group (restores and rescaling filter by it). */
  readonly timers?: Readonly<Record<string, readonly TimerEntry[]>>;
  /** Operator id → state name → the task's union list state (`getUnionOperatorState`): every task restores the union. */
  readonly union?: Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>>;
}

/** One registered timer of a keyed operator, as a task snapshot keeps it. */
export interface TimerEntry {
  readonly keyGroup: number;
  readonly key: StateKey;
  /** Event time (fires when the watermark reaches it) or processing time (wall clock, ms). */
  readonly domain: 'event' | 'processing';
  readonly time: number;
}

/** Where a task hands its snapshots (the checkpoint coordinator's side, local or remote). */
export interface CheckpointListener {
  /** The task took its snapshot for the checkpoint (after forwarding the barrier). */
  acknowledge(snapshot: TaskSnapshot): void;
  /** The task could not take its snapshot. */
  decline(taskId: string, checkpointId: number, reason: string): void;
}
