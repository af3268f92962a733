import type { ExecutionPlan, JobState, TaskMetrics, TaskRunState } from '@mobius/interface';
import { RecoveryEventLog, type CheckpointCoordinator, type FsCheckpointStore, type RecoveryEventHandle } from '@mobius/failover';

/** One task of a cluster job, as the coordinator sees it. */
export interface ClusterTask {
  readonly taskId: string;
  workerId: string;
  attempt: number;
  state: TaskRunState;
  error?: string;
  metrics?: TaskMetrics;
}

/** A job on the cluster, as the coordinator keeps it. */
export class ClusterJob {
  state: JobState = 'CREATED';
  error: string | undefined;
  readonly tasks = new Map<string, ClusterTask>();
  readonly submitTime = Date.now();
  startTime: number | undefined;
  endTime: number | undefined;
  /** Set once every worker accepted its deployment. */
  deployed = false;
  /** Highest attempt number given to any task (each recovery gives the tasks it restarts the next one). */
  attempt = 0;
  restarts = 0;
  restarting = false;
  /** Recoveries, one after another (a failure during one is handled after it). */
  recovery: Promise<void> = Promise.resolve();
  /** Every recovery, for GET /jobs/:id/events. */
  readonly events = new RecoveryEventLog();
  /** The recovery in progress: its event completes once each restarted task runs. */
  pendingRecovery: { readonly handle: RecoveryEventHandle; readonly waiting: Map<string, number> } | undefined;
  /**
   * A recovery happened and no checkpoint has completed since: the restarted tasks may still be
   * replaying, and their neighbours hold replay state that belongs to it. A failure in this
   * window is recovered globally. Cleared by the next completed checkpoint.
   */
  settlingSince: number | undefined = undefined;
  /** The last checkpoint completed by any of the job's checkpoint coordinators (one per recovery). */
  lastCompletedCheckpoint: number | undefined = undefined;
  checkpoints: CheckpointCoordinator | undefined;
  store: FsCheckpointStore | undefined;
  checkpointDir = '';
  nextCheckpointId = 1;
  /** Checkpoint ids below this are leased (persisted): a restarted coordinator continues after it. */
  reservedCheckpointId = 0;
  /** Set while a restarted coordinator waits for the workers to report the job's tasks. */
  resuming: { readonly deadline: number; readonly reported: Set<string> } | undefined;
  /** Background compactions of completed checkpoints, one after another. */
  compaction: Promise<void> = Promise.resolve();
  /** The job's own arguments (process.argv.slice(2) in the job module). */
  args: readonly string[] = [];
  /** What the first attempt restores from (a savepoint), if anything. */
  restore: { readonly dir: string; readonly handles: readonly string[] } | undefined;
  private readonly settledListeners: ((job: ClusterJob) => void)[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly plan: ExecutionPlan,
    readonly bundle: string,
  ) {}

  get terminal(): boolean {
    return this.state === 'FINISHED' || this.state === 'CANCELED' || this.state === 'FAILED';
  }

  /** Moves to a terminal state once; later calls are ignored. Returns true if it moved. */
  settle(state: 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): boolean {
    if (this.terminal) return false;
    this.state = state;
    this.error = error;
    this.endTime = Date.now();
    for (const l of this.settledListeners.splice(0)) l(this);
    return true;
  }

  onSettled(listener: (job: ClusterJob) => void): void {
    if (this.terminal) listener(this);
    else this.settledListeners.push(listener);
  }

  summary(): Record<string, unknown> {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      error: this.error ?? null,
      submitTime: this.submitTime,
      startTime: this.startTime ?? null,
      endTime: this.endTime ?? null,
      attempt: this.attempt,
      restarts: this.restarts,
      lastCheckpoint: this.checkpoints?.stats().lastCompletedId ?? this.lastCompletedCheckpoint ?? null,
    };
  }

  /**
   * The records a task processed, as last reported: its records in, or for a source task (its
   * vertex has no input channel) that reports none in, its records out. 0 before any report.
   */
  recordsProcessed(task: ClusterTask): number {
    const m = task.metrics;
    if (m === undefined) return 0;
    if (m.recordsIn === 0) {
      const vertex = this.plan.tasks.find((t) => t.id === task.taskId)?.vertexId;
      const isSource = vertex !== undefined && !this.plan.edges.some((e) => e.targetVertex === vertex && e.sourceVertex !== vertex);
      if (isSource) return m.recordsOut;
    }
    return m.recordsIn;
  }

  details(): Record<string, unknown> {
    const vertexOf = new Map(this.plan.tasks.map((t) => [t.id, t]));
    return {
      ...this.summary(),
      graphHash: this.plan.graphHash,
      plan: this.plan,
      tasks: [...this.tasks.values()].map((t) => ({
        taskId: t.taskId,
        vertex: vertexOf.get(t.taskId)?.vertexId,
        index: vertexOf.get(t.taskId)?.index,
        state: t.state,
        workerId: t.workerId,
        attempt: t.attempt,
        recordsIn: t.metrics?.recordsIn ?? 0,
        recordsOut: t.metrics?.recordsOut ?? 0,
        recordsProcessed: this.recordsProcessed(t),
        error: t.error ?? null,
      })),
    };
  }
}
