import {
  JobFailedError,
  type ExecutionPlan,
  type JobHandle,
  type JobResult,
  type JobState,
  type LogicalGraph,
  type Logger,
  type StateBackend,
  type TaskMetrics,
} from '@mobius/interface';
import { Task } from '@mobius/runtime';
import { createLocalScheduler } from '@mobius/scheduler';
import { MemoryTransport } from '@mobius/transport-memory';

/** A job running in this process: every task on the memory transport. */
export class LocalJob implements JobHandle {
  state: JobState = 'CREATED';
  private tasks: Task[] = [];
  private failure: unknown = undefined;
  private cancelRequested = false;
  private readonly transport = new MemoryTransport();
  private readonly scheduler = createLocalScheduler();
  private startTime = 0;
  private done: Promise<JobResult> | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly plan: ExecutionPlan,
    private readonly graph: LogicalGraph,
    private readonly logger: Logger,
    private readonly stateBackend: StateBackend,
  ) {}

  async start(): Promise<void> {
    await this.transport.start();
    this.scheduler.place(this.id, this.plan);
    const services = { transport: this.transport, endpointOf: () => this.transport.endpoint, stateBackend: this.stateBackend, logger: this.logger };
    try {
      this.tasks = this.plan.tasks.map((t) => new Task({ jobId: this.id, plan: this.plan, graph: this.graph, taskId: t.id, attempt: 0 }, services));
    } catch (e) {
      await this.transport.close();
      this.scheduler.release(this.id);
      throw e;
    }
    this.state = 'RUNNING';
    this.startTime = Date.now();
    this.logger.info({ jobId: this.id, job: this.name, tasks: this.tasks.length }, 'job started');
    const runs = this.tasks.map((t) => t.run().catch((e: unknown) => this.fail(e)));
    this.done = Promise.all(runs).then(() => this.finish());
    // result() may never be called (an unbounded job that is cancelled): never an unhandled rejection.
    this.done.catch(() => undefined);
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const t of this.tasks) t.cancel();
  }

  private async finish(): Promise<JobResult> {
    await this.transport.close();
    this.scheduler.release(this.id);
    const endTime = Date.now();
    if (this.failure !== undefined) {
      this.state = 'FAILED';
      const error = new JobFailedError(this.id, this.name, this.failure);
      this.logger.error({ jobId: this.id, job: this.name, err: error }, 'job failed');
      throw error;
    }
    // A cancel that raced with the last task finishing does not turn a finished job into a cancelled one.
    this.state = this.cancelRequested && this.tasks.some((t) => t.state === 'CANCELED') ? 'CANCELED' : 'FINISHED';
    this.logger.info({ jobId: this.id, job: this.name, state: this.state, durationMs: endTime - this.startTime }, 'job ended');
    return {
      jobId: this.id,
      name: this.name,
      state: this.state as 'FINISHED' | 'CANCELED',
      startTime: this.startTime,
      endTime,
      durationMs: endTime - this.startTime,
      tasks: this.metrics(),
    };
  }

  result(): Promise<JobResult> {
    return this.done!;
  }

  async cancel(): Promise<void> {
    if (this.state === 'RUNNING') {
      this.cancelRequested = true;
      for (const t of this.tasks) t.cancel();
    }
    await this.done!.catch(() => undefined);
  }

  metrics(): readonly TaskMetrics[] {
    return this.tasks.map((t) => t.metrics());
  }
}
