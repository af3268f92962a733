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
  /** Records a checkpoint as complete (durably). */
  complete(metadata: CheckpointMetadata): Promise<void>;
  /** Completed checkpoints of a job, oldest first. */
  list(jobId: string): Promise<readonly CheckpointMetadata[]>;
  discard(jobId: string, checkpointId: number): Promise<void>;
  close(): Promise<void>;
}
