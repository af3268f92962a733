import {
  MobiusError,
  longestDeterminants,
  type CancelTasks,
  type Determinant,
  type ExecutionPlan,
  type LogicalGraph,
  type RescalePreparation,
  type RestartedTasks,
  type TaskMetrics,
  type TaskStateUpdate,
  type TaskToDeploy,
} from '@mobius/interface';
import { RescaledPlans, metricsInPlanOrder, taskSlots, type AttemptFences, type CheckpointAcks, type ExecutorDeployment, type FromTaskThread, type HostedTasks, type JobSource, type TaskHost } from '@mobius/jobmaster';
import type { HeartbeatSender } from './heartbeat-sender.js';
import type { TaskThreadListener, TaskThreads } from './task-threads.js';

export interface ThreadedJobHostOptions {
  readonly jobId: string;
  readonly name: string;
  readonly plan: ExecutionPlan;
  /** The job's graph: a deployment after a live rescale plans the job with its overrides. */
  readonly graph: LogicalGraph;
  /** The job's bundle as written here, which each thread imports in planning mode. */
  readonly source: JobSource;
  readonly graphHash: string;
  readonly checkpointDir?: string;
  readonly threads: TaskThreads;
  /** Hands each task attempt progress cells the heartbeat thread watches. */
  readonly heartbeats: HeartbeatSender;
  /** The worker's memory of cancelled attempts (shared with its other hosts). */
  readonly fences: AttemptFences;
  readonly acks: CheckpointAcks;
  report(update: TaskStateUpdate): void;
  /** No task of the job is left here, running or kept ended (the threads dropped the job). */
  onAllEnded(): void;
}

interface RunningTask {
  readonly attempt: number;
  metrics: TaskMetrics | undefined;
  /** Told to cancel: no longer listed in heartbeats, though its loop may still wind down. */
  cancelling: boolean;
}

/**
 * A job's tasks on a worker's task threads (the TaskHost the worker swaps in for a
 * JobTaskExecutor when `--task-threads` is above 0). Each task goes to the thread `taskSlots`
 * gives it, the one the job master gives its peers the endpoint of; the thread imports the job
 * on its first task. This side keeps what the worker answers from without asking the threads:
 * which attempts run (from their state reports), their counters (sent every 200 ms), and which
 * progress cells each uses.
 */
export class ThreadedJobHost implements TaskHost, TaskThreadListener {
  /** The job's plan at its live rescales so far, and the thread of each of its tasks (`taskSlots`). */
  private readonly plans: RescaledPlans;
  private slotOf: ReadonlyMap<string, number>;
  /** Threads asked to import the job, each resolving once it did. */
  private readonly loaded = new Map<number, Promise<void>>();
  private readonly running = new Map<string, RunningTask>();
  private readonly ended = new Map<string, TaskMetrics>();
  private readonly latest = new Map<string, TaskMetrics>();
  /** `taskId#attempt` → release of the attempt's progress cells. */
  private readonly progress = new Map<string, () => void>();
  private idleWaiters: (() => void)[] = [];
  /** Deployments on their way to the threads: the job stays loaded until they are through. */
  private deploying = 0;
  private unloaded = false;

  constructor(private readonly options: ThreadedJobHostOptions) {
    this.plans = new RescaledPlans(options.graph, options.plan);
    this.slotOf = taskSlots(options.plan, options.threads.count);
    options.threads.listen(options.jobId, this);
  }

  private load(index: number): Promise<void> {
    let loaded = this.loaded.get(index);
    if (loaded === undefined) {
      const { jobId, name, source, graphHash, checkpointDir } = this.options;
      loaded = this.options.threads.request<void>(index, { t: 'load', jobId, name, source, graphHash, checkpointDir });
      this.loaded.set(index, loaded);
    }
    return loaded;
  }

  async deploy(tasks: readonly TaskToDeploy[], deployment: ExecutorDeployment): Promise<void> {
    const { jobId } = this.options;
    if (this.unloaded) throw new MobiusError('DEPLOY_REFUSED', `job ${jobId} ended on this worker while its tasks were deployed`);
    const before = this.plans.current;
    if (this.plans.planFor(deployment.overrides) !== before) this.slotOf = taskSlots(this.plans.current, this.options.threads.count);
    const byThread = new Map<number, TaskToDeploy[]>();
    for (const task of tasks) {
      const index = this.slotOf.get(task.taskId);
      if (index === undefined) throw new MobiusError('DEPLOY_REFUSED', `job ${jobId} has no task ${task.taskId}`);
      let list = byThread.get(index);
      if (list === undefined) byThread.set(index, (list = []));
      list.push(task);
    }
    const attempts = deployment.attempts ?? Object.fromEntries(tasks.map((t) => [t.taskId, t.attempt]));
    this.deploying++;
    try {
      await this.deployOn(byThread, attempts, deployment);
    } finally {
      this.deploying--;
      this.checkEnded();
    }
  }

  private async deployOn(byThread: ReadonlyMap<number, TaskToDeploy[]>, attempts: Readonly<Record<string, number>>, deployment: ExecutorDeployment): Promise<void> {
    const { jobId } = this.options;
    await Promise.all(
      [...byThread].map(async ([index, list]) => {
        await this.load(index);
        // A cancel that came while the thread imported the job fences these attempts.
        this.options.fences.check(jobId, list);
        const progress: Record<string, number> = {};
        for (const t of list) {
          const claim = this.options.heartbeats.claimSlot(`${jobId}/${t.taskId}`, t.attempt);
          if (claim.slot === undefined) continue;
          progress[t.taskId] = claim.slot;
          this.progress.set(`${t.taskId}#${t.attempt}`, claim.release);
        }
        // Every snapshot: a task restored at another parallelism takes its key groups from several old tasks' snapshots.
        const snapshots = deployment.restore;
        const { staleCheckpointsThrough, overrides, rescaled } = deployment;
        const request = { jobId, workerId: '', tasks: list, endpoints: deployment.endpoints ?? {}, attempts, staleCheckpointsThrough, overrides, rescaled };
        try {
          await this.options.threads.request<void>(index, { t: 'deploy', request, snapshots, progress });
        } catch (e) {
          for (const t of list) if (this.running.get(t.taskId)?.attempt !== t.attempt) this.releaseProgress(t.taskId, t.attempt);
          throw e;
        }
      }),
    );
  }

  /** A report of one of the job's tasks, from its thread. */
  received(m: Exclude<FromTaskThread, { t: 'reply' } | { t: 'collect' }>): void {
    switch (m.t) {
      case 'state': {
        const { cause, ...update } = m.update;
        this.stateChanged({ ...update, cause: cause === undefined ? undefined : new MobiusError(cause.code ?? 'TASK_FAILED', cause.message) });
        return;
      }
      case 'metrics':
        for (const t of m.tasks) {
          if ((this.latest.get(t.taskId)?.attempt ?? -1) <= t.attempt) this.latest.set(t.taskId, t);
          const r = this.running.get(t.taskId);
          if (r?.attempt === t.attempt) r.metrics = t;
        }
        return;
      case 'ack':
        return this.options.acks.acknowledgeCheckpoint(m.taskId, m.checkpointId, m.handle);
      case 'decline':
        return this.options.acks.declineCheckpoint(m.taskId, m.checkpointId, m.reason);
    }
  }

  private stateChanged(update: TaskStateUpdate): void {
    const { taskId, attempt, state, metrics } = update;
    if (metrics !== undefined && (this.latest.get(taskId)?.attempt ?? -1) <= attempt) this.latest.set(taskId, metrics);
    if (state === 'RUNNING') {
      this.running.set(taskId, { attempt, metrics, cancelling: false });
      this.ended.delete(taskId);
    } else {
      if (this.running.get(taskId)?.attempt === attempt) {
        this.running.delete(taskId);
        if (state === 'FINISHED' && metrics !== undefined) this.ended.set(taskId, metrics);
      }
      this.releaseProgress(taskId, attempt);
    }
    this.options.report(update);
    this.checkEnded();
  }

  private releaseProgress(taskId: string, attempt: number): void {
    const key = `${taskId}#${attempt}`;
    this.progress.get(key)?.();
    this.progress.delete(key);
  }

  /** Wakes the idle waiters, and drops the job from the threads once nothing of it is left here. */
  private checkEnded(): void {
    if (this.running.size > 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.ended.size > 0 || this.deploying > 0 || this.unloaded) return;
    this.unloaded = true;
    const { jobId, threads } = this.options;
    for (const index of this.loaded.keys()) threads.request<void>(index, { t: 'unload', jobId }).catch(() => undefined);
    threads.unlisten(jobId, this);
    for (const release of this.progress.values()) release();
    this.progress.clear();
    this.options.onAllEnded();
  }

  async retire(taskIds: readonly string[]): Promise<void> {
    await Promise.all(this.cancel({ tasks: taskIds }));
  }

  cancel(which: CancelTasks = {}): Promise<void>[] {
    const { jobId, threads } = this.options;
    this.options.fences.cancelled(jobId, which, [...this.running.values()].map((r) => r.attempt));
    const only = which.tasks === undefined ? undefined : new Set(which.tasks);
    const hit = (taskId: string, attempt: number): boolean => (only === undefined || only.has(taskId)) && (which.before?.[taskId] === undefined || attempt < which.before[taskId]);
    for (const [taskId, r] of this.running) if (hit(taskId, r.attempt)) r.cancelling = true;
    for (const [taskId, m] of [...this.ended]) if (hit(taskId, m.attempt)) this.ended.delete(taskId);
    // Every thread the job was sent to: a request queued behind its import still reaches it.
    const stopping = [...this.loaded.keys()].map((index) => threads.request<void>(index, { t: 'cancel', jobId, which }).catch(() => undefined));
    this.checkEnded();
    return stopping;
  }

  private broadcast(message: Parameters<TaskThreads['post']>[1]): void {
    for (const index of this.loaded.keys()) this.options.threads.post(index, message);
  }

  triggerCheckpoint(checkpointId: number, timestamp: number, savepoint: boolean): void {
    this.broadcast({ t: 'trigger', jobId: this.options.jobId, checkpointId, timestamp, savepoint });
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.broadcast({ t: 'complete', jobId: this.options.jobId, checkpointId });
  }

  notifyCheckpointAborted(checkpointId: number): void {
    this.broadcast({ t: 'aborted', jobId: this.options.jobId, checkpointId });
  }

  rewire(restarted: RestartedTasks): void {
    this.broadcast({ t: 'rewire', jobId: this.options.jobId, restarted });
  }

  /** Every thread that has the job learns what its tasks do at the rescale barrier; resolves once all did. */
  async prepareRescale(preparation: RescalePreparation): Promise<void> {
    const { jobId, threads } = this.options;
    await Promise.all([...this.loaded.keys()].map((index) => threads.request<void>(index, { t: 'prepare-rescale', jobId, preparation })));
  }

  async determinantsOf(taskId: string): Promise<readonly Determinant[]> {
    const { jobId, threads } = this.options;
    const lists = await Promise.all([...this.loaded.keys()].map((i) => threads.request<Determinant[]>(i, { t: 'determinants', jobId, taskId }).catch(() => [] as Determinant[])));
    return longestDeterminants(lists);
  }

  async unreplayable(): Promise<readonly string[]> {
    const { jobId, threads } = this.options;
    const lists = await Promise.all([...this.loaded.keys()].map((i) => threads.request<string[]>(i, { t: 'replay-status', jobId }).catch(() => [] as string[])));
    return lists.flat();
  }

  metrics(): TaskMetrics[] {
    return metricsInPlanOrder(this.plans.current, this.latest);
  }

  runningMetrics(): TaskMetrics[] {
    const out: TaskMetrics[] = [];
    for (const r of this.running.values()) if (!r.cancelling && r.metrics !== undefined) out.push(r.metrics);
    return out;
  }

  hosted(): HostedTasks {
    return {
      running: [...this.running.values()].flatMap((r) => (r.metrics === undefined ? [] : [r.metrics])),
      ended: [...this.ended.values()],
    };
  }

  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
