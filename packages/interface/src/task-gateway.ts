import type { Determinant } from './frame.js';
import type { TaskRunState } from './control.js';
import type { TaskMetrics } from './runner.js';
import type { PlanChannel } from './plan.js';

/** Snapshots a deployment restores: the checkpoint store's location and the handles to read, oldest first. */
export interface RestoreHandles {
  readonly dir: string;
  readonly handles: readonly string[];
  /**
   * The checkpoint (or savepoint) they are of. A job started from it numbers its own checkpoints
   * after it: its restored tasks skip barriers up to that id as stale.
   */
  readonly checkpointId?: number;
}

/** One task to start on a worker. */
export interface TaskToDeploy {
  readonly taskId: string;
  readonly attempt: number;
  /** Single-task failover: the determinant log a downstream task kept of this task. */
  readonly determinants?: readonly Determinant[];
}

/** A deployment of some of a job's tasks on one worker (the `deploy` control message). */
export interface TaskDeploymentRequest {
  readonly jobId: string;
  readonly workerId: string;
  readonly tasks: readonly TaskToDeploy[];
  /** taskId → data endpoint of the worker running it, for every task of the job. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** taskId → current attempt of every task of the job. */
  readonly attempts: Readonly<Record<string, number>>;
  readonly restore?: RestoreHandles;
  /** Checkpoints up to this id were aborted or completed before this deployment: their barriers are stale. */
  readonly staleCheckpointsThrough?: number;
  /**
   * Live rescaling: the job's parallelism overrides (vertex id → parallelism) so far; the tasks
   * are planned with them (absent or empty: the graph's parallelism). Every deployment after a
   * rescale carries them, recoveries too.
   */
  readonly overrides?: Readonly<Record<string, number>>;
  /**
   * These are new tasks of a rescaled vertex: their channels are new, so they take state, timers
   * and function state from `restore` but no channel positions.
   */
  readonly rescaled?: boolean;
}

/** The channels one task changes at a rescale barrier (plan channels of the rescaled plan; removals by plan channel id). */
export interface RescaleChannelChanges {
  readonly addInputs?: readonly PlanChannel[];
  readonly removeInputs?: readonly string[];
  readonly addOutputs?: readonly PlanChannel[];
  readonly removeOutputs?: readonly string[];
}

/** What a worker prepares before the barrier of a rescale checkpoint (the `prepare-rescale` control message). */
export interface RescalePreparation {
  readonly checkpointId: number;
  /** Tasks of the rescaled vertex: they snapshot at the barrier and stop (see `Task.stopAt`). */
  readonly stop: readonly string[];
  /** Neighbouring tasks → the channels they change at the barrier. */
  readonly reconfigure: Readonly<Record<string, RescaleChannelChanges>>;
  /** taskId → attempt of the new tasks (channel ids name both ends' attempts). */
  readonly attempts: Readonly<Record<string, number>>;
  /** taskId → data endpoint of the worker that will run each new task. */
  readonly endpoints: Readonly<Record<string, string>>;
}

/** Which tasks a cancel stops (the `cancel` control message). */
export interface CancelTasks {
  /** Only these tasks (default: every task of the job on the worker). */
  readonly tasks?: readonly string[];
  /** Per task id, only attempts below this one are cancelled. */
  readonly before?: Readonly<Record<string, number>>;
}

/** Restarted tasks: their new attempt and endpoint (the `rewire` control message). */
export type RestartedTasks = Readonly<Record<string, { readonly attempt: number; readonly endpoint: string }>>;

/**
 * How a job master reaches the task executors (Flink's TaskExecutorGateway): one call per
 * control message of `control.ts`, addressed to a worker. The in-process gateway runs tasks in
 * this process; the cluster's turns each call into a control message.
 */
export interface TaskGateway {
  /** Starts tasks on a worker; rejects when the worker refuses or cannot be reached. */
  deploy(request: TaskDeploymentRequest): Promise<void>;
  /**
   * Stops tasks on a worker. A gateway may return a promise that resolves once the worker took
   * the cancel (it no longer reports the tasks as running) or gave up waiting; it never rejects.
   */
  cancel(jobId: string, workerId: string, which?: CancelTasks): void | Promise<void>;
  triggerCheckpoint(jobId: string, workerId: string, checkpointId: number, timestamp: number, savepoint: boolean): void;
  notifyCheckpointComplete(jobId: string, workerId: string, checkpointId: number): void;
  notifyCheckpointAborted(jobId: string, workerId: string, checkpointId: number): void;
  /** Output channels of the job's tasks on the worker that cannot replay (their buffers dropped frames). */
  replayStatus(jobId: string, workerId: string): Promise<readonly string[]>;
  /** The determinant log the worker's tasks hold of upstream task `taskId`. */
  determinantsOf(jobId: string, workerId: string, taskId: string): Promise<readonly Determinant[]>;
  /** Every task of the job on the worker re-opens its channels to and from the restarted tasks. */
  rewire(jobId: string, workerId: string, restarted: RestartedTasks): void;
  /**
   * Live rescaling: schedules, on the worker's tasks, what they do at the barrier of
   * `preparation.checkpointId`; resolves once scheduled (before that checkpoint is triggered).
   * A gateway without it cannot rescale.
   */
  prepareRescale?(jobId: string, workerId: string, preparation: RescalePreparation): Promise<void>;
}

/** A task's state change, as a worker reports it (the `task-state` control message). */
export interface TaskStateUpdate {
  readonly taskId: string;
  readonly attempt: number;
  readonly state: TaskRunState;
  readonly error?: string;
  readonly metrics?: TaskMetrics;
  /** The worker that reported it. */
  readonly workerId?: string;
  /** The error object itself, when the task ran in this process (for JobFailedError's cause). */
  readonly cause?: unknown;
}

/** What a gateway reports back to the job master of a job. */
export interface TaskGatewayListener {
  taskStateChanged(update: TaskStateUpdate): void;
  acknowledgeCheckpoint(taskId: string, checkpointId: number, handle: string): void;
  declineCheckpoint(taskId: string, checkpointId: number, reason: string): void;
}
