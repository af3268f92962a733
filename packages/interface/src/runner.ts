import type { LogicalGraph } from './graph.js';

/** One recovery of a job, as `job.events()` and the cluster's `GET /jobs/:id/events` list it. */
export interface RecoveryEvent {
  /** Epoch ms when the failure was detected. */
  readonly time: number;
  readonly kind: 'recovery' | 'recovery-failed';
  /** How far it rolled back: the failed tasks alone, a connected region, or the whole job. */
  readonly strategy: 'single-task' | 'region' | 'global';
  /** Task ids rolled back. */
  readonly tasks: readonly string[];
  /** Why this strategy; for a failed recovery, why it failed. */
  readonly reason: string;
  /** Detection → recovered (every rolled-back task running again), or → given up for a failed one; null while in progress. */
  readonly durationMs: number | null;
  /** The checkpoint restored (null: from the start). */
  readonly checkpointId: number | null;
  /** The tasks that died. */
  readonly failed: readonly string[];
}

/** Job states, as in Flink: CREATED → RUNNING → FINISHED | CANCELED | FAILED. */
export type JobState = 'CREATED' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';

/** Counters of one task. */
export interface TaskMetrics {
  readonly taskId: string;
  readonly vertexName: string;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly attempt: number;
  /**
   * Event time: the task's current watermark in ms (the highest its operators reached: the input
   * watermark, or what its timestamps operator or source emitted); absent before the first one.
   */
  readonly currentWatermark?: number;
  /** Records that came too late for their window and were dropped (not sent to a late-data side output). */
  readonly lateRecordsDropped?: number;
  /** Event-time and processing-time timers registered and not yet fired (windows, process functions). */
  readonly timersPending?: number;
  /**
   * Load over the last `metrics.load.window.ms` (Flink's names). The three times add up to about
   * 1000: ms per second the task worked (records in hand, its own async calls or snapshots
   * included), waited for output credit (backpressure), or waited for input. Absent on a task
   * that is not running.
   */
  readonly busyTimeMsPerSecond?: number;
  readonly backPressuredTimeMsPerSecond?: number;
  readonly idleTimeMsPerSecond?: number;
  /** Records taken in (a source task: records its source emitted) per second, over the same window. */
  readonly recordsInPerSecond?: number;
  /** Records sent on the task's output channels per second, over the same window. */
  readonly recordsOutPerSecond?: number;
  /**
   * Records in per second of busy time: what the task could take with no idle or backpressured
   * time (DS2's true processing rate). Absent while the task was never busy in the window.
   */
  readonly trueProcessingRate?: number;
  /** Records out per second of busy time (DS2's true output rate). Absent as `trueProcessingRate`. */
  readonly trueOutputRate?: number;
}

/** The load figures of `TaskMetrics` (Flink's names), in the order `GET /jobs/:id` lists them. */
export const TASK_LOAD_FIELDS = [
  'busyTimeMsPerSecond',
  'backPressuredTimeMsPerSecond',
  'idleTimeMsPerSecond',
  'recordsInPerSecond',
  'recordsOutPerSecond',
  'trueProcessingRate',
  'trueOutputRate',
] as const satisfies readonly (keyof TaskMetrics)[];

export type TaskLoadField = (typeof TASK_LOAD_FIELDS)[number];

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
  /** The job's recoveries, oldest first (in-progress ones have `durationMs` null). */
  events(): readonly RecoveryEvent[];
  /**
   * Live rescaling: sets the parallelism of `operator` (its id, uid or name; a chained operator
   * rescales with its chain) while every other task keeps running; resolves with the rescale's
   * event once the new tasks run (rejects with a MobiusError: `RESCALE_CONFLICT`,
   * `RESCALE_NO_SLOTS`, `PLAN_UNKNOWN_OPERATOR`, … or `RESCALE_FAILED`). A runner that cannot
   * rescale rejects with `RESCALE_UNSUPPORTED`.
   */
  rescale(operator: string, parallelism: number): Promise<RescaleEvent>;
}

/** A live rescale of one vertex, as the job's event log keeps it. */
export interface RescaleEvent {
  readonly kind: 'rescale';
  /** The rescale's id, as `POST /jobs/:id/rescale` answers it (`rescale-1`, `rescale-2`, … per job). */
  readonly id: string;
  /** Epoch ms of the request. */
  readonly time: number;
  /** The operator as the request named it, and the vertex (chain) that was rescaled. */
  readonly operator: string;
  readonly vertex: string;
  readonly from: number;
  readonly to: number;
  readonly trigger: 'user' | 'autoscaler';
  /** The rescale checkpoint: the old tasks' snapshots at it are the new tasks' state. */
  readonly checkpointId: number;
  /** From the request until every new task ran. */
  readonly durationMs: number;
  /** From the rescale barrier until every new task ran: the time the vertex processed nothing. */
  readonly pausedMs: number;
  /** Key groups whose owning task index changed (0 for a vertex with no keyed operator). */
  readonly keyGroupsMoved: number;
  /** Bytes of the old tasks' snapshots the new tasks read. */
  readonly bytesMoved: number;
  /** Set when the rescale did not complete: why, and that the job went on at `to` (= `from`). */
  readonly failed?: string;
}

export interface SubmitOptions {
  readonly name: string;
}

/** Runs a logical graph: the embedded runner, or a client of a cluster. */
export interface JobRunner {
  submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle>;
}
