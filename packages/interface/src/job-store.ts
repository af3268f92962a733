import type { JobState } from './runner.js';
import type { RestoreHandles } from './task-gateway.js';

/**
 * What a restarted coordinator needs to take a job back: its name and arguments, checkpoint
 * folder, the tasks' workers and attempts, and the checkpoint-id lease.
 */
export interface JobRecord {
  readonly id: string;
  readonly name: string;
  readonly args: readonly string[];
  readonly state: JobState;
  readonly submitTime: number;
  readonly checkpointDir: string;
  readonly restore: RestoreHandles | null;
  readonly attempt: number;
  readonly restarts: number;
  /** Checkpoint ids below this are leased: a job master taking the job back starts after it. */
  readonly reservedCheckpointId: number;
  readonly tasks: readonly { readonly taskId: string; readonly workerId: string; readonly attempt: number }[];
  /** Vertex id → parallelism of the job's live rescales so far (absent in records written before them). */
  readonly overrides?: Readonly<Record<string, number>>;
}

/** Durable job records (a file per job for the cluster, memory for embedded jobs). */
export interface JobStore {
  /** Writes the record atomically (a reader sees the old one or the new one). */
  save(record: JobRecord): void;
  load(jobId: string): JobRecord | undefined;
  /** Ids of every job with a record. */
  list(): readonly string[];
}
