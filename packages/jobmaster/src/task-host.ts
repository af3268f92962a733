import type { ParallelismOverrides } from '@mobius/planner';
import type { CancelTasks, Determinant, RescalePreparation, RestartedTasks, TaskMetrics, TaskSnapshot, TaskToDeploy } from '@mobius/interface';

/** What deploying tasks needs beyond the tasks themselves (the rest of a TaskDeploymentRequest, snapshots read). */
export interface ExecutorDeployment {
  /** taskId → current attempt of every task of the job. Default: each task's own. */
  readonly attempts?: Readonly<Record<string, number>>;
  readonly restore?: readonly TaskSnapshot[];
  readonly staleCheckpointsThrough?: number;
  /**
   * taskId → data endpoint of every task of the job, as this deployment saw them: its tasks look
   * their peers up here (unless the host's services give every endpoint), and the job's latest
   * endpoints, which a rewire uses, take them in.
   */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** The job's parallelism overrides (its live rescales so far): the tasks are planned with them. */
  readonly overrides?: ParallelismOverrides;
  /** New tasks of a rescaled vertex: their channels are new (see `TaskDeployment.rescaled`). */
  readonly rescaled?: boolean;
}

/** The tasks of one job the host holds: running ones (told to cancel or not) and finished ones kept for replay. */
export interface HostedTasks {
  readonly running: readonly TaskMetrics[];
  readonly ended: readonly TaskMetrics[];
}

/**
 * The tasks of one job on one worker, as the process that hosts them drives them: the seam
 * between a worker (or the embedded gateway) and where its tasks run. `JobTaskExecutor` runs
 * them on this thread; a host that runs them on another thread answers the same calls, which
 * is why queries may answer with a promise.
 */
export interface TaskHost {
  /** Creates and runs the tasks; throws (before running any) when one cannot be built or its attempt was cancelled. */
  deploy(tasks: readonly TaskToDeploy[], deployment: ExecutorDeployment): void | Promise<void>;
  /** Cancels the running attempts of these tasks and resolves once they stopped. */
  retire(taskIds: readonly string[]): Promise<void>;
  /**
   * Cancels running tasks (only `which.tasks`, only attempts below `which.before`), releases
   * finished ones, fences the attempts. Returns the runs of the tasks told to stop, each
   * settling once its task stopped and closed its functions (never rejecting).
   */
  cancel(which?: CancelTasks): Promise<void>[];
  triggerCheckpoint(checkpointId: number, timestamp: number, savepoint: boolean): void;
  notifyCheckpointComplete(checkpointId: number): void;
  notifyCheckpointAborted(checkpointId: number): void;
  /** Every task here other than the restarted ones re-opens its channels to and from them. */
  rewire(restarted: RestartedTasks): void;
  /** Live rescaling: tells the tasks here what to do at the rescale checkpoint's barrier; resolves once they know. */
  prepareRescale(preparation: RescalePreparation): void | Promise<void>;
  /** The longest determinant log the tasks here hold of upstream task `taskId`. */
  determinantsOf(taskId: string): readonly Determinant[] | Promise<readonly Determinant[]>;
  /** Output channels of the tasks here that cannot replay (their buffers dropped frames). */
  unreplayable(): readonly string[] | Promise<readonly string[]>;
  /** Counters of the newest attempt of each task deployed here, in plan order. */
  metrics(): TaskMetrics[];
  /** Counters of the running tasks not told to cancel (what heartbeats list). */
  runningMetrics(): TaskMetrics[];
  /** Every task here, for a worker that registers again. */
  hosted(): HostedTasks;
  /** Resolves once no task runs here. */
  idle(): Promise<void>;
}
