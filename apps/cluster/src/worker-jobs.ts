import { MobiusError, type ControlMessage, type ExecutionPlan, type LogicalGraph, type Logger, type RescalePreparation, type TaskMetrics, type TaskStateUpdate, type Transport } from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { AttemptFences, JobTaskExecutor, readTaskSnapshots, storeCheckpointListener, type CheckpointAcks, type TaskHost } from '@mobius/jobmaster';
import { planWithOverrides } from '@mobius/planner';
import { attachTaskProgress, registerCollectForwarder } from '@mobius/runtime';
import type { HeartbeatSender } from './heartbeat-sender.js';
import { JobGraphs } from './job-graphs.js';
import { stateBackends } from './state-backend.js';
import { ThreadedJobHost } from './threaded-job-host.js';
import type { TaskThreads } from './task-threads.js';

type DeployMessage = Extract<ControlMessage, { type: 'deploy' }>;
type CancelMessage = Extract<ControlMessage, { type: 'cancel' }>;
type RegisteredTasks = Extract<ControlMessage, { type: 'register' }>['tasks'];

/** What the worker's jobs need of the worker process. */
export interface WorkerJobsContext {
  readonly logger: Logger;
  /** Where job bundles are written (the worker's temporary folder). */
  readonly dir: string;
  /** Hands each running task progress cells the heartbeat thread watches. */
  readonly heartbeats: HeartbeatSender;
  /** The data transport (started before any deployment comes). */
  transport(): Transport;
  /** The task threads, when tasks run on threads (`--task-threads` above 0; started before any deployment comes). */
  threads(): TaskThreads | undefined;
  /** A push to the coordinator; throws once the control connection closed. */
  push(message: ControlMessage): void;
  /** A request to the coordinator. */
  request(message: ControlMessage, timeoutMs: number): Promise<ControlMessage>;
}

/** A job with tasks here; it goes once none is left, running or kept ended for replay. */
interface HostedJob {
  readonly graph: LogicalGraph;
  readonly plan: ExecutionPlan;
  /** Runs the job's tasks and answers for them. */
  readonly host: TaskHost;
  /** Unregisters the job's collect forwarder (undefined: the job collects nothing). */
  readonly stopCollecting: (() => void) | undefined;
}

/**
 * The jobs whose tasks a worker runs, each through one TaskHost (a JobTaskExecutor on this
 * thread, or a ThreadedJobHost on the task threads): turns the coordinator's deploy, cancel, checkpoint, rewire and query messages into
 * calls on the job's host, and what the hosts report into control messages.
 */
export class WorkerJobs {
  private readonly jobs = new Map<string, HostedJob>();
  /**
   * Attempts cancelled per job, shared with the jobs' hosts: a deployment of one that completes
   * late (a slow import) starts nothing, even when the job was not here yet at the cancel.
   */
  private readonly fences = new AttemptFences();
  /** Checkpoint stores by folder (a shared mount on a real cluster). */
  private readonly stores = new Map<string, FsCheckpointStore>();
  private readonly graphs: JobGraphs;
  private stopped = false;

  constructor(private readonly ctx: WorkerJobsContext) {
    this.graphs = new JobGraphs(ctx.dir);
  }

  get size(): number {
    return this.jobs.size;
  }

  async deploy(message: DeployMessage): Promise<void> {
    this.fences.check(message.jobId, message.tasks);
    // Every await comes before the job's entry is looked up: deployments of one job run
    // concurrently (one request per task in a recovery), and an entry made before an await
    // could be replaced by another deployment's, leaving this one's tasks unreachable.
    const graph = this.jobs.get(message.jobId)?.graph ?? (await this.graphs.of(message));
    const store = message.checkpointDir === undefined ? undefined : this.storeAt(message.checkpointDir);
    const restore = message.restore === undefined ? undefined : await readTaskSnapshots(this.storeAt(message.restore.dir), message.restore.handles);
    // The job master may have cancelled this attempt while the job was imported or its snapshots
    // read: refused before a new job's entry is made (the host's own check then agrees).
    this.fences.check(message.jobId, message.tasks);
    const job = this.jobs.get(message.jobId) ?? this.hostJob(message, graph, store);
    const { attempts, staleCheckpointsThrough, endpoints, overrides, rescaled } = message;
    await job.host.deploy(message.tasks, { attempts, restore, staleCheckpointsThrough, endpoints, overrides, rescaled });
  }

  /** Live rescaling: the job's tasks here learn what to do at the rescale barrier (nothing when none runs here). */
  async prepareRescale(jobId: string, preparation: RescalePreparation): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.ctx.logger.info({ jobId, checkpointId: preparation.checkpointId, stop: preparation.stop, reconfigure: Object.keys(preparation.reconfigure) }, 'preparing a live rescale');
    await job.host.prepareRescale(preparation);
  }

  /** The job's entry, with the host that runs its tasks here (one per job, kept until none is left). */
  private hostJob(message: DeployMessage, graph: LogicalGraph, store: FsCheckpointStore | undefined): HostedJob {
    const { jobId } = message;
    const { logger, heartbeats } = this.ctx;
    const plan = planWithOverrides(graph, message.name, message.overrides ?? {});
    const threads = this.ctx.threads();
    if (threads !== undefined) {
      const file = this.graphs.bundlePath(jobId);
      if (file === undefined) throw new MobiusError('DEPLOY_REFUSED', `job ${jobId}: its bundle is not on this worker any more`);
      const host: TaskHost = new ThreadedJobHost({
        jobId,
        name: message.name,
        plan,
        graph,
        source: { file, args: message.args ?? [] },
        graphHash: message.graphHash,
        checkpointDir: store === undefined ? undefined : message.checkpointDir,
        threads,
        heartbeats,
        fences: this.fences,
        acks: this.checkpointAcks(jobId),
        report: (update) => this.report(jobId, update),
        onAllEnded: () => this.endJob(jobId, host),
      });
      // The threads' collect sinks forward through TaskThreads: nothing to register here.
      const job: HostedJob = { graph, plan, host, stopCollecting: undefined };
      this.jobs.set(jobId, job);
      return job;
    }
    const host: TaskHost = new JobTaskExecutor({
      jobId,
      plan,
      graph,
      services: {
        transport: this.ctx.transport(),
        stateBackend: stateBackends.create(plan.config),
        logger,
        checkpoints: store === undefined ? undefined : storeCheckpointListener(jobId, store, this.checkpointAcks(jobId)),
        replay: true,
      },
      fences: this.fences,
      report: (update) => this.report(jobId, update),
      onTaskStart: (task) => {
        // The heartbeat thread watches the task's loop through these cells (stall detection).
        const progress = heartbeats.claim(`${jobId}/${task.id}`, task.metrics().attempt);
        attachTaskProgress(task, progress.progress);
        return progress.release;
      },
      onAllEnded: () => this.endJob(jobId, host),
    });
    const stopCollecting = registerCollectForwarder(jobId, plan, (m, timeoutMs) => this.ctx.request(m, timeoutMs));
    const job: HostedJob = { graph, plan, host, stopCollecting };
    this.jobs.set(jobId, job);
    return job;
  }

  private storeAt(dir: string): FsCheckpointStore {
    let store = this.stores.get(dir);
    if (store === undefined) {
      store = new FsCheckpointStore({ directory: dir, logger: this.ctx.logger });
      this.stores.set(dir, store);
    }
    return store;
  }

  /** The coordinator gets each snapshot's handle (the snapshots go to the shared store). */
  private checkpointAcks(jobId: string): CheckpointAcks {
    return {
      acknowledgeCheckpoint: (taskId, checkpointId, handle) => this.ctx.push({ type: 'ack-checkpoint', jobId, taskId, checkpointId, handle }),
      declineCheckpoint: (taskId, checkpointId, reason) => this.ctx.push({ type: 'decline-checkpoint', jobId, taskId, checkpointId, reason }),
    };
  }

  private report(jobId: string, { taskId, attempt, state, error, metrics }: TaskStateUpdate): void {
    try {
      this.ctx.push({ type: 'task-state', jobId, taskId, attempt, state, error, metrics });
    } catch (e) {
      if (!this.stopped) this.ctx.logger.warn({ jobId, taskId, state, err: e }, 'reporting a task state failed');
    }
  }

  /** No task of the job is left here: its entry, collect forwarder and state go. */
  private endJob(jobId: string, host: TaskHost): void {
    const job = this.jobs.get(jobId);
    if (job === undefined || job.host !== host) return; // an entry made since for a new deployment
    this.jobs.delete(jobId);
    job.stopCollecting?.();
    stateBackends.dispose(job.plan.config, jobId);
  }

  /** Cancels the job's tasks the message names; they leave `runningMetrics` now. Returns the runs of the running ones it cancelled. */
  cancel(message: CancelMessage): Promise<void>[] {
    const job = this.jobs.get(message.jobId);
    if (job === undefined) {
      // Remembered even for a job not here yet: its deployment may still be on its way.
      this.fences.cancelled(message.jobId, message, []);
      return [];
    }
    const { before } = message;
    const tasks = message.tasks?.length ?? job.host.hosted().running.length;
    this.ctx.logger.info({ jobId: message.jobId, tasks, before }, before === undefined ? 'cancelling job tasks' : 'cancelling stale task attempts (fenced by the coordinator)');
    return job.host.cancel(message);
  }

  /** Takes the checkpoint and rewire pushes; false for any other message. */
  handlePush(message: ControlMessage): boolean {
    if (message.type === 'trigger-checkpoint') {
      this.jobs.get(message.jobId)?.host.triggerCheckpoint(message.checkpointId, message.timestamp, message.savepoint === true);
    } else if (message.type === 'checkpoint-aborted') {
      this.jobs.get(message.jobId)?.host.notifyCheckpointAborted(message.checkpointId);
    } else if (message.type === 'checkpoint-complete') {
      this.jobs.get(message.jobId)?.host.notifyCheckpointComplete(message.checkpointId);
    } else if (message.type === 'rewire') {
      const host = this.jobs.get(message.jobId)?.host;
      if (host === undefined) return true;
      const { running, ended } = host.hosted();
      this.ctx.logger.debug({ jobId: message.jobId, restarted: Object.keys(message.restarted), running: running.map((m) => m.taskId), ended: ended.map((m) => m.taskId) }, 'rewiring');
      host.rewire(message.restarted);
    } else {
      return false;
    }
    return true;
  }

  /** The longest log of upstream task `taskId` the job's tasks here hold. */
  async determinantsOf(jobId: string, taskId: string): Promise<Extract<ControlMessage, { type: 'determinants' }>['entries']> {
    return (await this.jobs.get(jobId)?.host.determinantsOf(taskId)) ?? [];
  }

  async unreplayable(jobId: string): Promise<readonly string[]> {
    return (await this.jobs.get(jobId)?.host.unreplayable()) ?? [];
  }

  /**
   * Metrics of the running tasks, each named `jobId/taskId` (as heartbeats name them). A task told
   * to cancel is left out at once, though its loop may take a while to stop.
   */
  runningMetrics(): TaskMetrics[] {
    const tasks: TaskMetrics[] = [];
    for (const [jobId, job] of this.jobs) {
      for (const m of job.host.runningMetrics()) tasks.push({ ...m, taskId: `${jobId}/${m.taskId}` });
    }
    return tasks;
  }

  /** Every task here, running or kept ended, as a worker registering again lists them. */
  registered(): RegisteredTasks {
    return [...this.jobs].flatMap(([jobId, job]) => {
      const { running, ended } = job.host.hosted();
      return [
        ...running.map((m) => ({ jobId, taskId: m.taskId, attempt: m.attempt, state: 'RUNNING' as const, metrics: m })),
        ...ended.map((m) => ({ jobId, taskId: m.taskId, attempt: m.attempt, state: 'FINISHED' as const, metrics: m })),
      ];
    });
  }

  /** Cancels every running task and releases the ended ones (the worker is stopping). */
  stop(): void {
    this.stopped = true;
    for (const job of [...this.jobs.values()]) job.host.cancel();
  }
}
