import { longestDeterminants, type RescalePreparation, type CancelTasks, type Determinant, type ExecutionPlan, type LogicalGraph, type RestartedTasks, type TaskMetrics, type TaskStateUpdate, type TaskToDeploy } from '@mobius/interface';
import { Task, type TaskServices } from '@mobius/runtime';
import { RescaledPlans } from './rescaled-plans.js';
import { AttemptFences } from './attempt-fences.js';
import type { ExecutorDeployment, HostedTasks, TaskHost } from './task-host.js';

export type { ExecutorDeployment } from './task-host.js';

/** What every task of the job runs on. Without `endpointOf`, tasks find their peers in the endpoints deployments bring. */
export type ExecutorServices = Omit<TaskServices, 'endpointOf'> & { readonly endpointOf?: (taskId: string) => string };

export interface TaskExecutorOptions {
  readonly jobId: string;
  readonly plan: ExecutionPlan;
  readonly graph: LogicalGraph;
  readonly services: ExecutorServices;
  /** Each task's state changes (RUNNING, then FINISHED, CANCELED or FAILED). */
  report(update: TaskStateUpdate): void;
  /**
   * The memory of cancelled attempts, when the host keeps one across its jobs (a worker fences a
   * job it does not run yet); default: the executor's own.
   */
  readonly fences?: AttemptFences;
  /**
   * Called before a task runs (a worker gives it heartbeat progress cells here); the function it
   * returns, if any, is called once the task ended, before the task leaves the running ones.
   */
  onTaskStart?(task: Task): (() => void) | undefined;
  /** Called whenever a task ended or a cancel left no task here, running or finished: the host may drop the job. */
  onAllEnded?(): void;
}

/**
 * The tasks of one job on one worker (the task executor's side of the TaskGateway), run on this
 * thread: starts new attempts (replacing an old one still winding down), keeps finished tasks for
 * replay until the job ends, and answers checkpoint, rewire, determinant and replay-status calls.
 */
export class JobTaskExecutor implements TaskHost {
  /** Running tasks. */
  readonly tasks = new Map<string, Task>();
  /** Tasks that finished, kept until the job ends: a restarted downstream task may need their replay. */
  readonly ended = new Map<string, Task>();
  /** The newest attempt of each task ever deployed here, for metrics. */
  private readonly latest = new Map<string, Task>();
  /** Running tasks told to cancel that are still winding down: no longer counted as running. */
  private readonly cancelling = new WeakSet<Task>();
  private readonly sourceVertices: ReadonlySet<string>;
  private idleWaiters: (() => void)[] = [];
  /** The run of each task here, to wait for an old attempt's end. */
  private readonly runs = new Map<Task, Promise<void>>();
  /** Attempts cancelled here: a deployment of one that arrives late is refused. */
  private readonly fences: AttemptFences;
  /** taskId → data endpoint: every deployment's, updated by each rewire. */
  private readonly endpoints = new Map<string, string>();
  private readonly latestEndpoint = (taskId: string): string => this.endpoints.get(taskId)!;
  /** The services, when they know every endpoint (one transport for every task). */
  private readonly fixedServices: TaskServices | undefined;

  /** The job's plan as this executor last deployed it (a live rescale replaces it). */
  private readonly plans: RescaledPlans;

  constructor(private readonly options: TaskExecutorOptions) {
    this.plans = new RescaledPlans(options.graph, options.plan);
    this.sourceVertices = new Set(options.plan.operators.filter((o) => o.kind === 'source').map((o) => o.vertexId));
    this.fences = options.fences ?? new AttemptFences();
    const { endpointOf, ...services } = options.services;
    this.fixedServices = endpointOf === undefined ? undefined : { ...services, endpointOf };
  }

  /** Creates and runs the tasks; throws (before running any) when one cannot be built or its attempt was cancelled. */
  deploy(tasks: readonly TaskToDeploy[], d: ExecutorDeployment): void {
    const { jobId, graph } = this.options;
    const plan = this.plans.planFor(d.overrides);
    const rescaled = d.rescaled === true;
    this.fences.check(jobId, tasks);
    const services = this.servicesFor(d.endpoints);
    const created = tasks.map(
      ({ taskId, attempt, determinants }) =>
        new Task({ jobId, plan, graph, taskId, attempt, restore: d.restore, attempts: d.attempts, determinants, staleCheckpointsThrough: d.staleCheckpointsThrough, rescaled }, services),
    );
    for (const [taskId, endpoint] of Object.entries(d.endpoints ?? {})) this.endpoints.set(taskId, endpoint);
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

  /** The services' endpoints if they know every one, else the deployment's own (a worker's tasks keep those their deployment saw). */
  private servicesFor(endpoints: Readonly<Record<string, string>> | undefined): TaskServices {
    if (this.fixedServices !== undefined) return this.fixedServices;
    return { ...this.options.services, endpointOf: endpoints === undefined ? this.latestEndpoint : (taskId) => endpoints[taskId]! };
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
    const release = this.options.onTaskStart?.(task);
    report('RUNNING');
    try {
      await task.run();
      report(task.state === 'CANCELED' ? 'CANCELED' : 'FINISHED');
    } catch (e) {
      report('FAILED', e);
    } finally {
      release?.();
      if (this.tasks.get(task.id) === task) {
        this.tasks.delete(task.id);
        if (task.state === 'FINISHED') this.ended.set(task.id, task);
      }
      if (this.tasks.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      if (this.tasks.size === 0 && this.ended.size === 0) this.options.onAllEnded?.();
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

  /**
   * Cancels running tasks (only `which.tasks`, only attempts below `which.before`), releases ended
   * ones, fences the attempts; returns the runs of the running tasks it cancelled.
   */
  cancel(which: CancelTasks = {}): Promise<void>[] {
    this.fences.cancelled(this.options.jobId, which, this.all().map((t) => t.metrics().attempt));
    const only = which.tasks === undefined ? undefined : new Set(which.tasks);
    const before = which.before;
    const hit = (t: Task): boolean => (only === undefined || only.has(t.id)) && (before?.[t.id] === undefined || t.metrics().attempt < before[t.id]);
    const stopping: Promise<void>[] = [];
    for (const t of this.tasks.values()) {
      if (!hit(t)) continue;
      this.cancelling.add(t);
      t.cancel();
      const run = this.runs.get(t);
      if (run !== undefined) stopping.push(run);
    }
    for (const [id, t] of [...this.ended]) {
      if (!hit(t)) continue;
      t.dispose();
      this.ended.delete(id);
    }
    if (this.tasks.size === 0 && this.ended.size === 0) this.options.onAllEnded?.();
    return stopping;
  }

  /**
   * Live rescaling: what this worker's tasks do at the barrier of the rescale checkpoint: the
   * rescaled vertex's old tasks stop there, their neighbours change channels there.
   */
  prepareRescale(p: RescalePreparation): void {
    for (const [taskId, endpoint] of Object.entries(p.endpoints)) this.endpoints.set(taskId, endpoint);
    // Services that know every endpoint (one transport, or the host's own map) are asked; else the preparation's.
    const endpoints = this.fixedServices === undefined ? p.endpoints : undefined;
    for (const id of p.stop) this.tasks.get(id)?.stopAt(p.checkpointId);
    for (const [id, changes] of Object.entries(p.reconfigure)) this.tasks.get(id)?.reconfigure(p.checkpointId, { ...changes, attempts: p.attempts, endpoints });
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

  /**
   * Every task here other than the restarted ones re-opens its channels to and from them (a task
   * that fails to is logged; the others still do), looking endpoints up in the services or else
   * in the job's latest ones, which take the restarted tasks' in first.
   */
  rewire(restarted: RestartedTasks): void {
    const { jobId, services } = this.options;
    for (const [taskId, r] of Object.entries(restarted)) this.endpoints.set(taskId, r.endpoint);
    const endpointOf = services.endpointOf ?? this.latestEndpoint;
    for (const t of this.all()) {
      if (restarted[t.id] !== undefined) continue; // a new attempt: wired at deployment
      try {
        t.rewire(restarted, endpointOf);
      } catch (e) {
        services.logger.error({ jobId, taskId: t.id, err: e }, 're-opening channels to restarted tasks failed');
      }
    }
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
    for (const p of this.plans.current.tasks) {
      const t = this.latest.get(p.id);
      if (t !== undefined) out.push(t.metrics());
    }
    return out;
  }

  /** Counters of the running tasks not told to cancel, in the order they were deployed. */
  runningMetrics(): TaskMetrics[] {
    const out: TaskMetrics[] = [];
    for (const t of this.tasks.values()) if (!this.cancelling.has(t)) out.push(t.metrics());
    return out;
  }

  hosted(): HostedTasks {
    return { running: [...this.tasks.values()].map((t) => t.metrics()), ended: [...this.ended.values()].map((t) => t.metrics()) };
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
