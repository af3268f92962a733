// Why this file is long (~470 lines): one job's life in one class (deploy, checkpoints, failure
// intake, terminal states); recovery, rescaling, autoscaling, checkpointing and restart strategies already
// live beside it, and what is left here is the state they share.
import {
  CoreOptions,
  MobiusError,
  getConfig,
  type CheckpointMetadata,
  type CheckpointStore,
  type ExecutionPlan,
  type JobRecord,
  type JobState,
  type JobStore,
  type Logger,
  type LogicalGraph,
  type RestoreHandles,
  type Scheduler,
  type TaskGateway,
  type TaskGatewayListener,
  type TaskMetrics,
  type TaskRunState,
  type TaskStateUpdate,
} from '@mobius/interface';
import { RecoveryEventLog } from '@mobius/failover';
import type { AutoscalerEvent } from './autoscaler/autoscaler-event.js';
import type { AutoscalerLoop } from './autoscaler/autoscaler-loop.js';
import { autoscalerLoopOf } from './autoscaler/job-autoscaling.js';
import { JobCheckpointing, type StateCompactor } from './checkpointing.js';
import { deployAll } from './deployment.js';
import { Recoveries } from './recovery.js';
import { Rescaling } from './rescaling.js';
import type { RestartDecision } from './restart-backoff.js';
import { RestartStrategy } from './restart-strategy.js';
import { taskSlots } from './threads/thread-placement.js';

/** One task of the job, as the job master sees it. */
export interface JobTask {
  readonly taskId: string;
  workerId: string;
  attempt: number;
  state: TaskRunState;
  error?: string;
  metrics?: TaskMetrics;
}

/** Checkpointing of a job: where snapshots go and what to keep. */
export interface JobCheckpointOptions {
  readonly store: CheckpointStore;
  /** The store's location as deployments name it (`RestoreHandles.dir`). */
  readonly dir: string;
  /** Completed checkpoints kept. */
  readonly retained: number;
  /** Merges incremental state chains in the background (none: restores read the chain). */
  readonly compactor?: StateCompactor;
}

export interface JobMasterOptions {
  readonly jobId: string;
  readonly name: string;
  readonly plan: ExecutionPlan;
  /** The job's logical graph: with it (and a gateway that can), the job can be rescaled live. */
  readonly graph?: LogicalGraph;
  readonly gateway: TaskGateway;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Without it the job takes no checkpoints and a failure fails it. */
  readonly checkpoints?: JobCheckpointOptions;
  /** Durable job records (none: nothing is written). */
  readonly jobStore?: JobStore;
  /** The job's own arguments (kept in its record). */
  readonly args?: readonly string[];
  /** What the first attempt restores from (a savepoint). */
  readonly restore?: RestoreHandles;
  /** How long a recovery waits for workers with free slots before it gives up or widens. Default 0. */
  readonly slotWaitMs?: number;
  /** The tasks' load figures for the autoscaler (embedded: the gateway's); default: what the tasks last reported (`JobTask.metrics`). */
  readonly taskMetrics?: () => readonly TaskMetrics[];
}

/** A job's end, for the app: its state and, for a failed job, why. */
export interface JobEnd {
  readonly state: 'FINISHED' | 'CANCELED' | 'FAILED';
  readonly error?: string;
  /** The error object of the task failure that ended the job, when it ran in this process. */
  readonly cause?: unknown;
}

/**
 * One job's life, the same in both modes (Flink's JobMaster): places the plan through the
 * Scheduler, deploys it through a TaskGateway, runs checkpoints, recovers failed tasks
 * (single-task, region or global; see recovery.ts), keeps the event log and writes the job's
 * durable record. The app routes what the gateway reports to it (`TaskGatewayListener`).
 */
export class JobMaster implements TaskGatewayListener {
  readonly id: string;
  readonly name: string;
  /** The job's plan; a live rescale replaces it. */
  plan: ExecutionPlan;
  readonly graph: LogicalGraph | undefined;
  readonly gateway: TaskGateway;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly args: readonly string[];
  readonly restartStrategy: RestartStrategy;
  readonly checkpointing: JobCheckpointing | undefined;
  /** Every recovery, for `events()` and GET /jobs/:id/events. */
  readonly events = new RecoveryEventLog();
  readonly tasks = new Map<string, JobTask>();
  readonly submitTime = Date.now();
  readonly slotWaitMs: number;
  state: JobState = 'CREATED';
  error: string | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
  /** Set once every worker accepted its deployment. */
  deployed = false;
  /** Highest attempt number given to any task. */
  attempt = 0;
  restarts = 0;
  restarting = false;
  /** What the current deployment restores from, if anything. */
  restore: RestoreHandles | undefined;
  /** The job is being cancelled: a task failing now is part of the cancel. */
  cancelling = false;
  readonly recoveries: Recoveries;
  readonly rescaling: Rescaling;
  /** Runs while the job does, when `autoscaler.enabled`. */
  readonly autoscaler: AutoscalerLoop;
  private failureCause: unknown = undefined;
  private readonly endListeners: ((end: JobEnd) => void)[] = [];
  private end: JobEnd | undefined;
  private readonly jobStore: JobStore | undefined;

  constructor(options: JobMasterOptions) {
    this.id = options.jobId;
    this.name = options.name;
    this.plan = options.plan;
    this.graph = options.graph;
    this.gateway = options.gateway;
    this.scheduler = options.scheduler;
    this.logger = options.logger;
    this.args = options.args ?? [];
    this.restore = options.restore;
    this.jobStore = options.jobStore;
    this.slotWaitMs = options.slotWaitMs ?? 0;
    this.restartStrategy = RestartStrategy.fromConfig(this.plan.config);
    const c = options.checkpoints;
    this.checkpointing =
      c === undefined
        ? undefined
        : new JobCheckpointing({
            jobId: this.id,
            plan: this.plan,
            store: c.store,
            dir: c.dir,
            retained: c.retained,
            compactor: c.compactor,
            logger: this.logger,
            hooks: {
              trigger: (checkpointId, timestamp, savepoint) => {
                for (const w of this.workersOf()) this.gateway.triggerCheckpoint(this.id, w, checkpointId, timestamp, savepoint);
              },
              completed: (checkpointId) => {
                this.recoveries.settled();
                for (const w of this.workersOf()) this.gateway.notifyCheckpointComplete(this.id, w, checkpointId);
              },
              aborted: (checkpointId) => {
                for (const w of this.workersOf()) this.gateway.notifyCheckpointAborted(this.id, w, checkpointId);
              },
              leased: () => this.persist(),
            },
          });
    // Started from a savepoint: checkpoint ids go on after its id (the restored tasks take
    // barriers up to it for stale ones, so checkpoints 1, 2, … would never complete).
    const restoredId = options.restore?.checkpointId;
    if (this.checkpointing !== undefined && restoredId !== undefined && this.checkpointing.nextCheckpointId <= restoredId) {
      this.checkpointing.nextCheckpointId = restoredId + 1;
      this.checkpointing.reservedCheckpointId = restoredId;
    }
    this.checkpointing?.renew();
    this.recoveries = new Recoveries(this);
    this.rescaling = new Rescaling(this);
    this.autoscaler = autoscalerLoopOf(this, options.taskMetrics);
  }

  get terminal(): boolean {
    return this.state === 'FINISHED' || this.state === 'CANCELED' || this.state === 'FAILED';
  }

  /** Checkpoints are taken periodically: failures are recovered (else they fail the job). */
  get recoverable(): boolean {
    return this.checkpointing !== undefined && getConfig(this.plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS) > 0;
  }

  /** Reserves the job's shared slots (throws InsufficientSlotsError) and writes the job's record. */
  place(): void {
    const placements = this.scheduler.place(this.id, this.plan);
    for (const p of placements) this.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt: 0, state: 'DEPLOYING' });
    this.persist();
  }

  /** Places and deploys the job; resolves once every worker took its tasks (or the job failed). */
  async start(): Promise<void> {
    this.place();
    await this.deploy();
  }

  /** Deploys every task of the job (a first deployment, or a global restore). */
  async deploy(staleCheckpointsThrough?: number): Promise<void> {
    const endpoints = this.endpoints();
    const attempts = this.attempts();
    const byWorker = new Map<string, { taskId: string; attempt: number }[]>();
    for (const t of this.tasks.values()) {
      const list = byWorker.get(t.workerId) ?? [];
      list.push({ taskId: t.taskId, attempt: t.attempt });
      byWorker.set(t.workerId, list);
    }
    this.state = 'RUNNING';
    this.startTime ??= Date.now();
    const failure = await deployAll(this.gateway, byWorker, { jobId: this.id, endpoints, attempts, restore: this.restore, staleCheckpointsThrough, overrides: this.rescaling.overrides });
    if (failure !== undefined) {
      this.failureCause = failure.cause;
      // All or nothing: what was started stops now (a slow worker's late start is fenced).
      this.logger.warn({ jobId: this.id, attempts, reason: failure.reason }, 'deployment failed: cancelling every task it started');
      // The job ends only once the workers took the cancel, so none reports its tasks running after.
      await this.pushCancel();
      // A cancel that came during the deployment fenced it: the job ends as the user asked.
      if (this.cancelling) this.endJob('CANCELED');
      else this.failJob(failure.reason, !failure.refused);
      return;
    }
    this.deployed = true;
    this.checkpointing?.current?.start();
    this.maybeFinish();
    if (!this.terminal) this.autoscaler.start();
  }

  taskStateChanged(update: TaskStateUpdate): void {
    const task = this.tasks.get(update.taskId);
    if (task === undefined || task.attempt !== update.attempt) return;
    task.state = update.state;
    if (update.metrics !== undefined) task.metrics = update.metrics;
    if (update.error !== undefined) task.error = update.error;
    this.logger.info({ jobId: this.id, taskId: task.taskId, workerId: update.workerId ?? task.workerId, state: update.state, attempt: update.attempt }, 'task state');
    if (update.state !== 'DEPLOYING') {
      this.recoveries.recovered(task.taskId, update.attempt);
      this.rescaling.taskRunning(task.taskId, update.attempt);
    }
    // While the job is being cancelled, a task that fails is part of the cancel.
    if (update.state === 'FAILED' && !this.cancelling) {
      if (update.cause !== undefined) this.failureCause = update.cause;
      this.taskFailed([task.taskId], update.error ?? `task ${task.taskId} failed`);
    } else this.maybeFinish();
  }

  acknowledgeCheckpoint(taskId: string, checkpointId: number, handle: string): void {
    this.checkpointing?.current?.acknowledge(taskId, checkpointId, handle);
  }

  declineCheckpoint(taskId: string, checkpointId: number, reason: string): void {
    this.checkpointing?.current?.decline(taskId, checkpointId, reason);
  }

  /** Tasks died (a lost worker) or failed: recovered one recovery after another, or the job fails. */
  taskFailed(taskIds: readonly string[], reason: string): void {
    this.recoveries.taskFailed(taskIds, reason);
  }

  /** Stops the job: tasks report CANCELED and the job ends CANCELED. */
  cancel(): void {
    if (this.terminal) return;
    this.cancelling = true;
    this.recoveries.abandon('the job was cancelled during the recovery');
    this.pushCancel();
    // A job whose tasks are all gone (e.g. lost workers) ends now.
    if ([...this.tasks.values()].every((t) => !this.isLive(t.workerId))) this.endJob('CANCELED');
  }

  /**
   * Takes back a running job from its record (a restarted coordinator): the tasks keep running
   * where the record says, checkpoint ids continue past the lease. Call `resumeTaken` once the
   * workers reported them.
   */
  takeBack(record: JobRecord): void {
    this.attempt = record.attempt;
    this.restarts = record.restarts;
    this.restore = record.restore ?? undefined;
    this.rescaling.overrides = record.overrides ?? {};
    if (this.checkpointing !== undefined) {
      this.checkpointing.reservedCheckpointId = record.reservedCheckpointId;
      this.checkpointing.nextCheckpointId = record.reservedCheckpointId + 1;
      this.checkpointing.renew();
    }
    this.state = 'RUNNING';
    this.startTime = Date.now();
    for (const t of record.tasks) this.tasks.set(t.taskId, { taskId: t.taskId, workerId: t.workerId, attempt: t.attempt, state: 'DEPLOYING' });
  }

  /** A job taken back runs again: its tasks keep their slots, checkpoints resume, `missing` tasks are recovered. */
  resumeTaken(reported: ReadonlySet<string>, missing: readonly string[], reason: string): void {
    this.scheduler.adopt(
      this.id,
      this.plan,
      [...this.tasks.values()].map((t) => ({ taskId: t.taskId, workerId: reported.has(t.taskId) && this.isLive(t.workerId) ? t.workerId : undefined })),
    );
    this.deployed = true;
    this.checkpointing?.current?.start();
    if (missing.length > 0) this.taskFailed(missing, reason);
    else this.maybeFinish();
    if (!this.terminal) this.autoscaler.start();
  }

  /** Takes a savepoint of the running job. */
  async savepoint(): Promise<CheckpointMetadata> {
    const coordinator = this.checkpointing?.current;
    if (this.state !== 'RUNNING' || coordinator === undefined) throw new MobiusError('JOB_NOT_RUNNING', `job ${this.id} is ${this.state}: a savepoint needs a running job`);
    return coordinator.triggerSavepoint();
  }

  /** A worker registered: recoveries waiting for free slots look again. */
  slotsFreed(): void {
    this.recoveries.wakeSlotWaiters();
  }

  /** The job's recoveries, oldest first. */
  recoveryEvents(): ReturnType<RecoveryEventLog['list']> {
    return this.events.list();
  }

  /** The autoscaler's events, oldest first (the last 1000). */
  autoscalerEvents(): AutoscalerEvent[] {
    return this.autoscaler.events.list();
  }

  /** Calls `listener` once the job ended (at once if it has). */
  onEnded(listener: (end: JobEnd) => void): void {
    if (this.end !== undefined) listener(this.end);
    else this.endListeners.push(listener);
  }

  /** What a restarted coordinator needs to take the job back. */
  record(): JobRecord {
    return {
      id: this.id,
      name: this.name,
      args: this.args,
      state: this.state,
      submitTime: this.submitTime,
      checkpointDir: this.checkpointing?.dir ?? '',
      restore: this.restore ?? null,
      attempt: this.attempt,
      restarts: this.restarts,
      reservedCheckpointId: this.checkpointing?.reservedCheckpointId ?? 0,
      tasks: [...this.tasks.values()].map((t) => ({ taskId: t.taskId, workerId: t.workerId, attempt: t.attempt })),
      overrides: this.rescaling.overrides,
    };
  }

  persist(): void {
    if (this.jobStore === undefined) return;
    try {
      this.jobStore.save(this.record());
    } catch (e) {
      this.logger.error({ jobId: this.id, err: e }, 'persisting the job record failed');
    }
  }

  isLive(workerId: string): boolean {
    return this.scheduler.workers().some((w) => w.id === workerId);
  }

  /**
   * taskId → data endpoint of its worker ('' for a task on a lost worker); on a worker whose
   * tasks run on threads, the endpoint of the task's thread (`taskSlots`, as the worker places it).
   */
  endpoints(): Record<string, string> {
    return this.endpointsOf([...this.tasks.values()], this.plan);
  }

  /** taskId → data endpoint of these placements, the tasks' threads as `plan` places them (see `endpoints`). */
  endpointsOf(placements: readonly { readonly taskId: string; readonly workerId: string }[], plan: ExecutionPlan): Record<string, string> {
    const byWorker = new Map(this.scheduler.workers().map((w) => [w.id, w]));
    const slotsBy = new Map<number, ReadonlyMap<string, number>>();
    const endpoints: Record<string, string> = {};
    for (const t of placements) {
      const worker = byWorker.get(t.workerId);
      const threads = worker?.slotEndpoints;
      if (threads === undefined || threads.length === 0) {
        endpoints[t.taskId] = worker?.endpoint ?? '';
        continue;
      }
      let slots = slotsBy.get(threads.length);
      if (slots === undefined) slotsBy.set(threads.length, (slots = taskSlots(plan, threads.length)));
      endpoints[t.taskId] = threads[slots.get(t.taskId) ?? 0] ?? worker!.endpoint;
    }
    return endpoints;
  }

  attempts(): Record<string, number> {
    return Object.fromEntries([...this.tasks.values()].map((t) => [t.taskId, t.attempt]));
  }

  /** The live workers running tasks of the job. */
  workersOf(): Set<string> {
    const workers = new Set<string>();
    for (const t of this.tasks.values()) if (this.isLive(t.workerId)) workers.add(t.workerId);
    return workers;
  }

  /**
   * Cancels every task of the job, fenced by attempt: a worker also refuses a late deployment of
   * these attempts. Resolves once every worker took the cancel (as far as the gateway tells).
   */
  pushCancel(): Promise<void> {
    const before: Record<string, number> = {};
    for (const t of this.tasks.values()) before[t.taskId] = t.attempt + 1;
    const taken = [...this.workersOf()].map((w) => this.gateway.cancel(this.id, w, { before }));
    return Promise.all(taken).then(() => undefined);
  }

  maybeFinish(): void {
    if (!this.deployed || this.terminal) return;
    const states = [...this.tasks.values()].map((t) => t.state);
    if (states.every((s) => s === 'FINISHED')) this.endJob('FINISHED');
    else if (states.every((s) => s === 'FINISHED' || s === 'CANCELED' || s === 'FAILED') && this.state === 'RUNNING' && this.cancelling) this.endJob('CANCELED');
  }

  /** Fails the job, or restores it globally when it may still restart (restartable and checkpointed). */
  failJob(error: string, restartable = true): void {
    if (this.terminal || this.restarting) return;
    if (restartable && this.recoverable && !this.cancelling) {
      const verdict = this.restartStrategy.jobFailed();
      if (verdict.restart) void this.recoveries.restartJob(error, verdict.delayMs);
      else this.failRefused(error, verdict);
      return;
    }
    this.pushCancel();
    this.endJob('FAILED', error);
  }

  /** The restart strategy refused to recover `error`: the job fails, saying why. */
  failRefused(error: string, verdict: RestartDecision): void {
    this.pushCancel();
    this.endJob('FAILED', `${error} (${verdict.reason})`);
  }

  endJob(state: 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): void {
    this.rescaling.abandon(`the job ended ${state}`);
    this.autoscaler.stop();
    if (this.terminal) return;
    this.state = state;
    this.error = error;
    this.endTime = Date.now();
    this.persist();
    void this.checkpointing?.stop();
    // Workers keep ended tasks for replay until the job ends: let them go.
    if (state === 'FINISHED') this.pushCancel();
    this.recoveries.jobEnded(state);
    this.cancelling = false;
    try {
      this.scheduler.release(this.id);
    } catch {
      // already released
    }
    this.end = { state, error, cause: state === 'FAILED' ? (this.failureCause ?? error) : undefined };
    for (const l of this.endListeners.splice(0)) l(this.end);
  }
}
