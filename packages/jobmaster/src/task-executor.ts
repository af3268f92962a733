import { longestDeterminants, type CancelTasks, type Determinant, type ExecutionPlan, type LogicalGraph, type RestartedTasks, type TaskMetrics, type TaskSnapshot, type TaskStateUpdate, type TaskToDeploy } from '@mobius/interface';
import { Task, type TaskServices } from '@mobius/runtime';
import { AttemptFences } from './attempt-fences.js';

/** What deploying tasks needs beyond the tasks themselves (the rest of a TaskDeploymentRequest, snapshots read). */
export interface ExecutorDeployment {
  readonly attempts: Readonly<Record<string, number>>;
  readonly restore?: readonly TaskSnapshot[];
  readonly staleCheckpointsThrough?: number;
}

export interface TaskExecutorOptions {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  /** What every task runs on (endpoints included). */
  readonly services: TaskServices;
  /** Each task's state changes (RUNNING, then FINISHED, CANCELED or FAILED). */
  report(update: TaskStateUpdate): void;
}

/**
 * The tasks of one job on one worker (the task executor's side of the TaskGateway): starts
 * new attempts (replacing an old one still winding down), keeps finished tasks for replay until
 * the job ends, and answers checkpoint, rewire, determinant and replay-status calls.
 */
export class JobTaskExecutor {
  /** Running tasks. */
  readonly tasks = new Map<string, Task>();
  /** Tasks that finished, kept until the job ends: a restarted downstream task may need their replay. */
  readonly ended = new Map<string, Task>();
  /** The newest attempt of each task ever deployed here, for metrics. */
  private readonly latest = new Map<string, Task>();
  private readonly sourceVertices: ReadonlySet<string>;
  private idleWaiters: (() => void)[] = [];
  /** The run of each task here, to wait for an old attempt's end. */
  private readonly runs = new Map<Task, Promise<void>>();
  /** Attempts cancelled here: a deployment of one that arrives late is refused. */
  private readonly fences = new AttemptFences();

  constructor(private readonly options: TaskExecutorOptions) {
    this.sourceVertices = new Set(options.plan.operators.filter((o) => o.kind === 'source').map((o) => o.vertexId));
  }

  /** Creates and runs the tasks; throws (before running any) when one cannot be built or its attempt was cancelled. */
  deploy(tasks: readonly TaskToDeploy[], d: ExecutorDeployment): void {
    const { jobId, plan, graph, services } = this.options;
    this.fences.check(jobId, tasks);
    const created = tasks.map(
      ({ taskId, attempt, determinants }) =>
        new Task({ jobId, plan, graph, taskId, attempt, restore: d.restore, attempts: d.attempts, determinants, staleCheckpointsThrough: d.staleCheckpointsThrough }, services),
    );
    for (const task of created) {
      // A new attempt replaces an old one still winding down (or kept ended) here.
      this.tasks.get(task.id)?.cancel();
      this.ended.get(task.id)?.dispose();
      this.ended.delete(task.id);
      this.tasks.set(task.id, task);
      this.latest.set(task.id, task);
      const run = this.run(task).finally(() => this.runs.delete(task));
      this.runs.set(task, run);
    }
  }

  private async run(task: Task): Promise<void> {
    const report = (state: TaskStateUpdate['state'], error?: unknown): void =>
      this.options.report({
        taskId: task.id,
        attempt: task.metrics().attempt,
        state,
        error: error === undefined ? undefined : error instanceof Error ? error.message : String(error),
        cause: error,
        metrics: task.metrics(),
      });
    report('RUNNING');
    try {
      await task.run();
      report(task.state === 'CANCELED' ? 'CANCELED' : 'FINISHED');
    } catch (e) {
      report('FAILED', e);
    } finally {
      if (this.tasks.get(task.id) === task) {
        this.tasks.delete(task.id);
        if (task.state === 'FINISHED') this.ended.set(task.id, task);
      }
      if (this.tasks.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Cancels the running attempts of these tasks and waits until they stopped: a new attempt that
   * shares this process's state backend must not overlap an old one.
   */
  async retire(taskIds: readonly string[]): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const id of taskIds) {
      const old = this.tasks.get(id);
      if (old === undefined) continue;
      old.cancel();
      const run = this.runs.get(old);
      if (run !== undefined) stopping.push(run);
    }
    await Promise.all(stopping);
  }

  /** Cancels running tasks (only `which.tasks`, only attempts below `which.before`), releases ended ones. */
  cancel(which: CancelTasks = {}): void {
    this.fences.cancelled(this.options.jobId, which, this.all().map((t) => t.metrics().attempt));
    const only = which.tasks === undefined ? undefined : new Set(which.tasks);
    const before = which.before;
    const hit = (t: Task): boolean => (only === undefined || only.has(t.id)) && (before?.[t.id] === undefined || t.metrics().attempt < before[t.id]);
    for (const t of this.tasks.values()) if (hit(t)) t.cancel();
    for (const [id, t] of [...this.ended]) {
      if (!hit(t)) continue;
      t.dispose();
      this.ended.delete(id);
    }
  }

  triggerCheckpoint(checkpointId: number, timestamp: number, savepoint: boolean): void {
    for (const t of this.tasks.values()) if (this.sourceVertices.has(t.vertex.id)) t.triggerCheckpoint(checkpointId, timestamp, savepoint ? 'savepoint' : 'checkpoint');
  }

  notifyCheckpointComplete(checkpointId: number): void {
    for (const t of this.tasks.values()) void t.notifyCheckpointComplete(checkpointId);
  }

  notifyCheckpointAborted(checkpointId: number): void {
    for (const t of this.tasks.values()) t.notifyCheckpointAborted(checkpointId);
  }

  /** Every task here other than the restarted ones re-opens its channels to and from them; returns the tasks that failed to. */
  rewire(restarted: RestartedTasks, endpointOf: (taskId: string) => string): { taskId: string; error: unknown }[] {
    const failures: { taskId: string; error: unknown }[] = [];
    for (const t of this.all()) {
      if (restarted[t.id] !== undefined) continue; // a new attempt: wired at deployment
      try {
        t.rewire(restarted, endpointOf);
      } catch (e) {
        failures.push({ taskId: t.id, error: e });
      }
    }
    return failures;
  }

  determinantsOf(taskId: string): readonly Determinant[] {
    return longestDeterminants(this.all().map((t) => t.determinantsOf(taskId)));
  }

  unreplayable(): string[] {
    return this.all().flatMap((t) => t.unreplayableOutputs());
  }

  /** Counters of the newest attempt of each task deployed here, in plan order. */
  metrics(): TaskMetrics[] {
    const out: TaskMetrics[] = [];
    for (const p of this.options.plan.tasks) {
      const t = this.latest.get(p.id);
      if (t !== undefined) out.push(t.metrics());
    }
    return out;
  }

  /** Resolves once no task runs here. */
  idle(): Promise<void> {
    if (this.tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Every task here, running or ended. */
  all(): Task[] {
    return [...this.tasks.values(), ...this.ended.values()];
  }
}
