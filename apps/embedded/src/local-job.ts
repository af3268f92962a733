import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreOptions,
  JobFailedError,
  MobiusError,
  getConfig,
  type ExecutionPlan,
  type JobHandle,
  type JobResult,
  type JobState,
  type LogicalGraph,
  type Logger,
  type RecoveryEvent,
  type RescaleEvent,
  type StateBackend,
  type TaskMetrics,
} from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { InProcessGateway, JobMaster, ThreadedGateway, type AutoscalerEvent, type JobEnd } from '@mobius/jobmaster';
import { createLocalScheduler } from '@mobius/scheduler';
import { registerCollectTarget } from '@mobius/runtime';
import { MemoryTransport } from '@mobius/transport-memory';
import { CollectResults } from './collect-results.js';
import { chooseThreads, type ThreadChoice } from './job-source.js';
import { threadedGateway } from './task-threads.js';
import { compactorFor, disposeJobState, retainedCheckpoints } from './state-backend.js';

/**
 * A job running in this process: the job master of `@mobius/jobmaster` with the in-process
 * gateway (every task on this thread, one memory transport) or, with `execution.threads`, the
 * threaded gateway (tasks on worker threads). With `checkpoint.interval.ms` > 0 a failed task
 * is recovered as in a cluster (`failover.strategy`: single-task by default, or global) as
 * `restart.strategy` allows.
 */
export class LocalJob implements JobHandle {
  private readonly transport = new MemoryTransport();
  private gateway: InProcessGateway | ThreadedGateway | undefined;
  private master: JobMaster | undefined;
  private done!: Promise<JobResult>;
  private settle!: { resolve(r: JobResult): void; reject(e: unknown): void };
  private startTime = 0;
  private readonly collected: CollectResults;
  private readonly unregisterCollect: () => void;
  private readonly store: FsCheckpointStore | undefined;
  private readonly threads: ThreadChoice;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly plan: ExecutionPlan,
    private readonly graph: LogicalGraph,
    private readonly logger: Logger,
    private readonly stateBackend: StateBackend,
  ) {
    const checkpointing = getConfig(plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS) > 0;
    this.store = checkpointing
      ? new FsCheckpointStore({ directory: getConfig(plan.config, CoreOptions.CHECKPOINT_DIR) || join(tmpdir(), 'mobius-checkpoints'), logger })
      : undefined;
    this.threads = chooseThreads(plan);
    this.collected = new CollectResults(plan, graph);
    this.unregisterCollect = registerCollectTarget(id, this.collected);
  }

  /** The threads the job's tasks run on (0: this thread). */
  get threadCount(): number {
    return this.gateway instanceof ThreadedGateway ? this.gateway.threadCount : 0;
  }

  /** The task threads, when the job's module builds the same graph there; else (logged) the in-process gateway. */
  private async createGateway(): Promise<InProcessGateway | ThreadedGateway> {
    const { id, plan, graph, logger, store } = this;
    const source = this.threads.source;
    if (this.threads.threads > 0 && source !== undefined) {
      const gateway = threadedGateway({ jobId: id, name: this.name, plan, graph, source, threads: this.threads.threads, checkpointDir: store?.directory, collected: this.collected, logger });
      try {
        await gateway.start();
        return gateway;
      } catch (e) {
        logger.warn({ jobId: id, job: this.name, err: e }, 'the task threads could not load the job: it runs on this thread (execution.threads 0)');
      }
    }
    return new InProcessGateway({ jobId: id, plan, graph, transport: this.transport, stateBackend: this.stateBackend, logger, store });
  }

  get state(): JobState {
    return this.master?.state ?? 'CREATED';
  }

  async start(): Promise<void> {
    this.done = new Promise<JobResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // result() may never be called (an unbounded job that is cancelled): never an unhandled rejection.
    this.done.catch(() => undefined);
    this.startTime = Date.now();
    await this.transport.start();
    const gateway = await this.createGateway();
    this.gateway = gateway;
    const { id, name, plan, logger, store } = this;
    const master = new JobMaster({
      jobId: id,
      name,
      plan,
      graph: this.graph,
      gateway,
      scheduler: createLocalScheduler(),
      logger,
      checkpoints: store === undefined ? undefined : { store, dir: store.directory, retained: retainedCheckpoints(plan), compactor: compactorFor(plan) },
      taskMetrics: () => gateway.metrics(),
    });
    this.master = master;
    gateway.connect(master);
    master.onEnded((end) => void this.finish(end));
    await master.start();
    const intervalMs = getConfig(this.plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS);
    this.logger.info({ jobId: this.id, job: this.name, tasks: this.plan.tasks.length, threads: this.threadCount, checkpointIntervalMs: intervalMs }, 'job started');
  }

  /** Once every task stopped: releases the transport and the state, then settles result(). */
  private async finish(end: JobEnd): Promise<void> {
    await this.gateway?.idle();
    await this.master?.checkpointing?.idle();
    if (this.gateway instanceof ThreadedGateway) await this.gateway.close();
    await this.transport.close();
    disposeJobState(this.plan, this.id);
    this.unregisterCollect();
    const endTime = Date.now();
    if (end.state === 'FAILED') {
      const error = new JobFailedError(this.id, this.name, end.cause);
      this.collected.end(error);
      this.logger.error({ jobId: this.id, job: this.name, err: error }, 'job failed');
      this.settle.reject(error);
      return;
    }
    this.collected.end();
    this.logger.info({ jobId: this.id, job: this.name, state: end.state, durationMs: endTime - this.startTime, restarts: this.master?.restarts ?? 0 }, 'job ended');
    this.settle.resolve({
      jobId: this.id,
      name: this.name,
      state: end.state,
      startTime: this.startTime,
      endTime,
      durationMs: endTime - this.startTime,
      tasks: this.metrics(),
    });
  }

  result(): Promise<JobResult> {
    return this.done;
  }

  async cancel(): Promise<void> {
    if (this.master?.state === 'RUNNING') this.master.cancel();
    await this.done.catch(() => undefined);
  }

  /** The records of collect sink `collectId` (`executeAndCollect`, `collectAsync`), for its one reader. */
  collectResults(collectId: string): AsyncIterable<unknown> {
    return this.collected.results(collectId);
  }

  metrics(): readonly TaskMetrics[] {
    return this.gateway?.metrics() ?? [];
  }

  events(): readonly RecoveryEvent[] {
    return this.master?.recoveryEvents() ?? [];
  }

  /**
   * Live rescaling (see the README): the operator's vertex goes to `parallelism` while every
   * other task keeps running; resolves with the rescale's event once the new tasks run. Needs
   * checkpoints (a checkpoint store); works with tasks on this thread or on task threads.
   */
  async rescale(operator: string, parallelism: number): Promise<RescaleEvent> {
    const master = this.master;
    if (master === undefined) throw new MobiusError('JOB_NOT_RUNNING', `job ${this.id} has not started`);
    return master.rescaling.rescale(operator, parallelism, 'user');
  }

  /** The job's live rescales, oldest first. */
  rescaleEvents(): readonly RescaleEvent[] {
    return this.master?.rescaling.events ?? [];
  }

  /** The autoscaler's evaluations, taken or not, oldest first (the last 1000; none unless `autoscaler.enabled`). */
  autoscalerEvents(): readonly AutoscalerEvent[] {
    return this.master?.autoscalerEvents() ?? [];
  }
}
