import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreOptions,
  JobFailedError,
  getConfig,
  type ExecutionPlan,
  type JobHandle,
  type JobResult,
  type JobState,
  type LogicalGraph,
  type Logger,
  type RecoveryEvent,
  type StateBackend,
  type TaskMetrics,
} from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { InProcessGateway, JobMaster, type JobEnd } from '@mobius/jobmaster';
import { createLocalScheduler } from '@mobius/scheduler';
import { registerCollectTarget } from '@mobius/runtime';
import { MemoryTransport } from '@mobius/transport-memory';
import { CollectResults } from './collect-results.js';
import { compactorFor, disposeJobState, retainedCheckpoints } from './state-backend.js';

/**
 * A job running in this process: the job master of `@mobius/jobmaster` with the in-process
 * gateway, every task on one memory transport. With `checkpoint.interval.ms` > 0 a failed task
 * is recovered as in a cluster (`failover.strategy`: single-task by default, or global) as
 * `restart.strategy` allows.
 */
export class LocalJob implements JobHandle {
  private readonly transport = new MemoryTransport();
  private readonly gateway: InProcessGateway;
  private readonly master: JobMaster;
  private done!: Promise<JobResult>;
  private settle!: { resolve(r: JobResult): void; reject(e: unknown): void };
  private startTime = 0;
  private readonly collected: CollectResults;
  private readonly unregisterCollect: () => void;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly plan: ExecutionPlan,
    graph: LogicalGraph,
    private readonly logger: Logger,
    stateBackend: StateBackend,
  ) {
    const checkpointing = getConfig(plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS) > 0;
    const store = checkpointing
      ? new FsCheckpointStore({ directory: getConfig(plan.config, CoreOptions.CHECKPOINT_DIR) || join(tmpdir(), 'mobius-checkpoints'), logger })
      : undefined;
    this.gateway = new InProcessGateway({ jobId: id, plan, graph, transport: this.transport, stateBackend, logger, store });
    this.master = new JobMaster({
      jobId: id,
      name,
      plan,
      gateway: this.gateway,
      scheduler: createLocalScheduler(),
      logger,
      checkpoints: store === undefined ? undefined : { store, dir: store.directory, retained: retainedCheckpoints(plan), compactor: compactorFor(plan) },
    });
    this.gateway.connect(this.master);
    this.collected = new CollectResults(plan, graph);
    this.unregisterCollect = registerCollectTarget(id, this.collected);
  }

  get state(): JobState {
    return this.master.state;
  }

  async start(): Promise<void> {
    this.done = new Promise<JobResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // result() may never be called (an unbounded job that is cancelled): never an unhandled rejection.
    this.done.catch(() => undefined);
    this.startTime = Date.now();
    this.master.onEnded((end) => void this.finish(end));
    await this.transport.start();
    await this.master.start();
    const intervalMs = getConfig(this.plan.config, CoreOptions.CHECKPOINT_INTERVAL_MS);
    this.logger.info({ jobId: this.id, job: this.name, tasks: this.plan.tasks.length, checkpointIntervalMs: intervalMs }, 'job started');
  }

  /** Once every task stopped: releases the transport and the state, then settles result(). */
  private async finish(end: JobEnd): Promise<void> {
    await this.gateway.idle();
    await this.master.checkpointing?.idle();
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
    this.logger.info({ jobId: this.id, job: this.name, state: end.state, durationMs: endTime - this.startTime, restarts: this.master.restarts }, 'job ended');
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
    if (this.master.state === 'RUNNING') this.master.cancel();
    await this.done.catch(() => undefined);
  }

  /** The records of collect sink `collectId` (`executeAndCollect`, `collectAsync`), for its one reader. */
  collectResults(collectId: string): AsyncIterable<unknown> {
    return this.collected.results(collectId);
  }

  metrics(): readonly TaskMetrics[] {
    return this.gateway.metrics();
  }

  events(): readonly RecoveryEvent[] {
    return this.master.recoveryEvents();
  }
}
