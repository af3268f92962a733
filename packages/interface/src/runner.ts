import type { LogicalGraph } from './graph.js';

/** Job states, as in Flink: CREATED → RUNNING → FINISHED | CANCELED | FAILED. */
export type JobState = 'CREATED' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';

/** Counters of one task. */
export interface TaskMetrics {
  readonly taskId: string;
  readonly vertexName: string;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly attempt: number;
}

/** What `job.result()` resolves to. */
export interface JobResult {
  readonly jobId: string;
  readonly name: string;
  readonly state: 'FINISHED' | 'CANCELED';
  readonly startTime: number;
  readonly endTime: number;
  readonly durationMs: number;
  readonly tasks: readonly TaskMetrics[];
}

/** A running or finished job. */
export interface JobHandle {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  /**
   * Resolves when a bounded job has finished (every source ended, every record reached the
   * sinks) or the job was cancelled; rejects with a JobFailedError when a task failed.
   */
  result(): Promise<JobResult>;
  /** Stops the job and resolves once every task has stopped. */
  cancel(): Promise<void>;
  /** Current counters of every task. */
  metrics(): readonly TaskMetrics[];
}

export interface SubmitOptions {
  readonly name: string;
}

/** Runs a logical graph: the embedded runner, or a client of a cluster. */
export interface JobRunner {
  submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle>;
}
