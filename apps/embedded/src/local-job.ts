import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JobFailedError,
  type CheckpointListener,
  type ExecutionPlan,
  type JobHandle,
  type JobResult,
  type JobState,
  type LogicalGraph,
  type Logger,
  type StateBackend,
  type TaskMetrics,
  type TaskSnapshot,
} from '@mobius/interface';
import { CheckpointCoordinator, FsCheckpointStore, compactCheckpoint, snapshotsToRestore } from '@mobius/failover';
import { Task, decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';
import { createLocalScheduler } from '@mobius/scheduler';
import { MemoryTransport } from '@mobius/transport-memory';
import { compactorFor, disposeJobState, retainedCheckpoints } from './state-backend.js';

/**
 * A job running in this process: every task on the memory transport. With
 * `checkpoint.interval.ms` > 0, checkpoints are taken, and a failure restarts every task from
 * the latest complete checkpoint (global restore) up to `restart.max-attempts` times.
 */
export class LocalJob implements JobHandle {
  state: JobState = 'CREATED';
  private tasks: Task[] = [];
  private failure: unknown = undefined;
  private restarting = false;
  private cancelRequested = false;
  private transport = new MemoryTransport();
  private readonly scheduler = createLocalScheduler();
  private startTime = 0;
  private done!: Promise<JobResult>;
  private settle!: { resolve(r: JobResult): void; reject(e: unknown): void };
  private attempt = 0;
  private restarts = 0;
  private coordinator: CheckpointCoordinator | undefined;
  private store: FsCheckpointStore | undefined;
  private nextCheckpointId = 1;
  private readonly intervalMs: number;
  /** Background compactions of completed checkpoints, one after another. */
  private compaction: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly plan: ExecutionPlan,
    private readonly graph: LogicalGraph,
    private readonly logger: Logger,
    private readonly stateBackend: StateBackend,
  ) {
    this.intervalMs = plan.config['checkpoint.interval.ms'] as number;
  }

  private config(key: string): number {
    return this.plan.config[key] as number;
  }

  async start(): Promise<void> {
    this.scheduler.place(this.id, this.plan);
    if (this.intervalMs > 0) {
      const dir = (this.plan.config['checkpoint.dir'] as string) || join(tmpdir(), 'mobius-checkpoints');
      this.store = new FsCheckpointStore({ directory: dir, logger: this.logger });
    }
    this.done = new Promise<JobResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // result() may never be called (an unbounded job that is cancelled): never an unhandled rejection.
    this.done.catch(() => undefined);
    this.startTime = Date.now();
    try {
      await this.launch(undefined);
    } catch (e) {
      await this.transport.close();
      this.scheduler.release(this.id);
      throw e;
    }
    this.logger.info({ jobId: this.id, job: this.name, tasks: this.tasks.length, checkpointIntervalMs: this.intervalMs }, 'job started');
  }

  /** Deploys every task (restoring from snapshots after a failure) and runs them. */
  private async launch(restore: readonly TaskSnapshot[] | undefined): Promise<void> {
    await this.transport.start();
    const coordinator = this.createCoordinator();
    const listener: CheckpointListener | undefined =
      coordinator === undefined
        ? undefined
        : {
            acknowledge: (snapshot) => {
              void this.store!.writeTaskState(this.id, snapshot.checkpointId, snapshot.taskId, encodeTaskSnapshot(snapshot)).then(
                (handle) => coordinator.acknowledge(snapshot.taskId, snapshot.checkpointId, handle),
                (e: unknown) => coordinator.decline(snapshot.taskId, snapshot.checkpointId, `writing the snapshot failed: ${(e as Error).message}`),
              );
            },
            decline: (taskId, checkpointId, reason) => coordinator.decline(taskId, checkpointId, reason),
          };
    const services = { transport: this.transport, endpointOf: () => this.transport.endpoint, stateBackend: this.stateBackend, logger: this.logger, checkpoints: listener };
    const tasks = this.plan.tasks.map((t) => new Task({ jobId: this.id, plan: this.plan, graph: this.graph, taskId: t.id, attempt: this.attempt, restore }, services));
    this.tasks = tasks;
    this.coordinator = coordinator;
    this.state = 'RUNNING';
    coordinator?.start();
    const runs = tasks.map((t) => t.run().catch((e: unknown) => this.onTaskFailure(e, tasks)));
    void Promise.all(runs).then(() => this.attemptEnded(tasks));
  }

  private createCoordinator(): CheckpointCoordinator | undefined {
    if (this.store === undefined) return undefined;
    const sources = new Set(this.plan.operators.filter((o) => o.kind === 'source').map((o) => o.vertexId));
    return new CheckpointCoordinator({
      jobId: this.id,
      tasks: this.plan.tasks.map((t) => t.id),
      store: this.store,
      intervalMs: this.intervalMs,
      timeoutMs: this.config('checkpoint.timeout.ms'),
      retained: retainedCheckpoints(this.plan),
      firstCheckpointId: this.nextCheckpointId,
      logger: this.logger,
      trigger: (checkpointId, timestamp, savepoint) => {
        for (const t of this.tasks) if (sources.has(t.vertex.id)) t.triggerCheckpoint(checkpointId, timestamp, savepoint ? 'savepoint' : 'checkpoint');
      },
      notifyComplete: (checkpointId) => {
        for (const t of this.tasks) void t.notifyCheckpointComplete(checkpointId);
        this.compactInBackground(checkpointId);
      },
      notifyAborted: (checkpointId) => {
        for (const t of this.tasks) t.notifyCheckpointAborted(checkpointId);
      },
    });
  }

  /** Merges the checkpoint's incremental state chains into full snapshots, off the task loops. */
  private compactInBackground(checkpointId: number): void {
    const compact = compactorFor(this.plan);
    const store = this.store;
    if (compact === undefined || store === undefined) return;
    this.compaction = this.compaction
      .then(async () => {
        const metadata = (await store.list(this.id)).find((m) => m.checkpointId === checkpointId);
        if (metadata === undefined) return; // already past retention
        const rewritten = await compactCheckpoint(store, this.id, metadata, { decode: decodeTaskSnapshot, encode: encodeTaskSnapshot }, compact);
        if (rewritten > 0) this.logger.debug({ jobId: this.id, checkpointId, tasks: rewritten }, 'checkpoint compacted');
      })
      .catch((e: unknown) => this.logger.warn({ jobId: this.id, checkpointId, err: e }, 'compacting a checkpoint failed; restores read its chain instead'));
  }

  private onTaskFailure(error: unknown, attemptTasks: readonly Task[]): void {
    if (attemptTasks !== this.tasks || this.restarting || this.failure !== undefined) return;
    const canRestart = this.coordinator !== undefined && !this.cancelRequested && this.restarts < this.config('restart.max-attempts');
    if (canRestart) {
      this.restarting = true;
      this.logger.warn({ jobId: this.id, job: this.name, err: error, attempt: this.attempt }, 'task failed: restarting the job from its latest checkpoint');
      this.coordinator!.abort('a task failed');
    } else {
      this.failure = error;
    }
    for (const t of attemptTasks) t.cancel();
  }

  private async attemptEnded(attemptTasks: readonly Task[]): Promise<void> {
    if (attemptTasks !== this.tasks) return;
    const coordinator = this.coordinator;
    if (coordinator !== undefined) {
      this.nextCheckpointId += coordinator.stats().triggered;
      await coordinator.stop();
    }
    await this.transport.close();
    await this.compaction;
    if (this.restarting && !this.cancelRequested) {
      try {
        await this.restart();
        return;
      } catch (e) {
        this.failure = e;
      }
    }
    this.restarting = false;
    this.finish();
  }

  /** Global restore: every task again, from the latest valid complete checkpoint. */
  private async restart(): Promise<void> {
    this.restarts++;
    this.attempt++;
    await new Promise((resolve) => setTimeout(resolve, this.config('restart.delay.ms')));
    const latest = await this.store!.latestValid(this.id);
    const restore = latest === undefined ? undefined : (await snapshotsToRestore(this.store!, this.id, latest, decodeTaskSnapshot)).snapshots;
    this.logger.warn({ jobId: this.id, job: this.name, attempt: this.attempt, checkpointId: latest?.checkpointId ?? null }, latest === undefined ? 'restarting from the beginning (no complete checkpoint)' : 'restarting from a checkpoint');
    this.restarting = false;
    this.transport = new MemoryTransport();
    await this.launch(restore);
  }

  private finish(): void {
    this.scheduler.release(this.id);
    disposeJobState(this.plan, this.id);
    const endTime = Date.now();
    if (this.failure !== undefined) {
      this.state = 'FAILED';
      const error = new JobFailedError(this.id, this.name, this.failure);
      this.logger.error({ jobId: this.id, job: this.name, err: error }, 'job failed');
      this.settle.reject(error);
      return;
    }
    // A cancel that raced with the last task finishing does not turn a finished job into a cancelled one.
    this.state = this.cancelRequested && this.tasks.some((t) => t.state === 'CANCELED') ? 'CANCELED' : 'FINISHED';
    this.logger.info({ jobId: this.id, job: this.name, state: this.state, durationMs: endTime - this.startTime, restarts: this.restarts }, 'job ended');
    this.settle.resolve({
      jobId: this.id,
      name: this.name,
      state: this.state as 'FINISHED' | 'CANCELED',
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
    if (this.state === 'RUNNING') {
      this.cancelRequested = true;
      for (const t of this.tasks) t.cancel();
    }
    await this.done.catch(() => undefined);
  }

  metrics(): readonly TaskMetrics[] {
    return this.tasks.map((t) => t.metrics());
  }
}
