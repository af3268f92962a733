// Shared by the unit tests of this package (not exported): a plan built by hand, a recording
// logger and a scripted in-memory TaskGateway.
import {
  MobiusError,
  type CancelTasks,
  type CheckpointStore,
  type ConfigMap,
  type Determinant,
  type ExecutionPlan,
  type Logger,
  type PlanChannel,
  type PlanEdge,
  type PlanTask,
  type PlanVertex,
  type RestartedTasks,
  type TaskDeploymentRequest,
  type TaskGateway,
  type TaskGatewayListener,
  type TaskRunState,
} from '@mobius/interface';
import { encodeTaskSnapshot } from '@mobius/runtime';
import { AttemptFences } from './attempt-fences.js';

/**
 * A chain of `stages` joined by rebalance edges, the first a source and the last a sink; by
 * default source p=2 → map p=2 → sink p=1. Every channel as the planner would build it.
 */
export function testPlan(
  config: ConfigMap,
  stages: readonly { readonly id: string; readonly parallelism: number }[] = [
    { id: 'source', parallelism: 2 },
    { id: 'map', parallelism: 2 },
    { id: 'sink', parallelism: 1 },
  ],
): ExecutionPlan {
  const vertices: PlanVertex[] = stages.map((s) => ({ id: s.id, name: s.id, operatorIds: [s.id], parallelism: s.parallelism }));
  const tasks: PlanTask[] = stages.flatMap((s) => Array.from({ length: s.parallelism }, (_, index) => ({ id: `${s.id}#${index}`, vertexId: s.id, index, keyGroups: { start: 0, end: 127 } })));
  const edges: PlanEdge[] = [];
  const channels: PlanChannel[] = [];
  for (let i = 1; i < stages.length; i++) {
    const from = stages[i - 1];
    const to = stages[i];
    const edgeId = `${from.id}->${to.id}`;
    edges.push({ id: edgeId, sourceOperator: from.id, targetOperator: to.id, sourceVertex: from.id, targetVertex: to.id, partition: 'rebalance', chained: false, inputIndex: 0 });
    for (let s = 0; s < from.parallelism; s++) for (let t = 0; t < to.parallelism; t++) channels.push({ id: `${edgeId}:${s}->${t}`, edgeId, sourceTask: `${from.id}#${s}`, targetTask: `${to.id}#${t}` });
  }
  return {
    jobName: 'test',
    graphHash: 'test',
    maxParallelism: 128,
    config,
    operators: stages.map((s, i) => ({ id: s.id, name: s.id, kind: i === 0 ? 'source' : i === stages.length - 1 ? 'sink' : 'map', parallelism: s.parallelism, vertexId: s.id, config: {}, keyed: false })),
    vertices,
    edges,
    tasks,
    channels,
  };
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: Readonly<Record<string, unknown>>;
  readonly msg: string;
}

/** A Logger that keeps every line and lets a test wait for one. */
export class RecordingLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly waiters: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[] = [],
  ) {}
  private record(level: LogEntry['level'], obj: object, msg?: string): void {
    const entry: LogEntry = { level, obj: obj as Record<string, unknown>, msg: msg ?? '' };
    this.entries.push(entry);
    for (const w of [...this.waiters]) {
      if (!w.match(entry)) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(entry);
    }
  }
  debug(obj: object, msg?: string): void {
    this.record('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.record('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.record('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.record('error', obj, msg);
  }
  child(): Logger {
    return new RecordingLogger(this.entries, this.waiters);
  }
  /** The first line (logged already or to come) whose message starts with `prefix`. */
  next(prefix: string, after = 0): Promise<LogEntry> {
    const match = (e: LogEntry): boolean => e.msg.startsWith(prefix);
    const seen = this.entries.slice(after).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  count(prefix: string): number {
    return this.entries.filter((e) => e.msg.startsWith(prefix)).length;
  }
}

export type GatewayCall =
  | { readonly op: 'deploy'; readonly request: TaskDeploymentRequest }
  | { readonly op: 'cancel'; readonly workerId: string; readonly which?: CancelTasks }
  | { readonly op: 'trigger' | 'complete' | 'aborted'; readonly workerId: string; readonly checkpointId: number }
  | { readonly op: 'replay-status' | 'determinants'; readonly workerId: string; readonly taskId?: string }
  | { readonly op: 'rewire'; readonly workerId: string; readonly restarted: RestartedTasks };

/**
 * A scripted TaskGateway: tasks "run" as entries of a map, report RUNNING when deployed (unless
 * held), CANCELED when cancelled, and acknowledge checkpoints with real snapshots in the store
 * (unless silent). The test makes them fail or finish.
 */
export class FakeGateway implements TaskGateway {
  listener!: TaskGatewayListener;
  readonly calls: GatewayCall[] = [];
  /** taskId → where its current attempt runs. */
  readonly running = new Map<string, { workerId: string; attempt: number }>();
  /** The next deployment of each of these task ids is refused. */
  readonly refuse = new Set<string>();
  /** The next deployment of each of these task ids fails as an unreachable worker's (a timeout). */
  readonly unreachable = new Set<string>();
  /** Deployments of these task ids stay unanswered until `releaseHeld()`. */
  readonly hold = new Set<string>();
  private held: (() => void)[] = [];
  /** Tasks deployed from now on with these ids never report RUNNING (they are still starting). */
  readonly quiet = new Set<string>();
  /** These tasks never acknowledge a checkpoint. */
  readonly silent = new Set<string>();
  /** Channels reported unreplayable. */
  unreplayable: string[] = [];
  /** Determinants every holder keeps of any task. */
  determinants: Determinant[] = [];
  private changeWaiters: (() => void)[] = [];

  /** Resolves at the next call or report. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  private touched(): void {
    for (const w of this.changeWaiters.splice(0)) w();
  }

  constructor(
    private readonly jobId: string,
    private readonly store: CheckpointStore,
  ) {}

  async deploy(request: TaskDeploymentRequest): Promise<void> {
    this.calls.push({ op: 'deploy', request });
    this.touched();
    const refused = request.tasks.filter((t) => this.refuse.delete(t.taskId));
    if (refused.length > 0) throw new MobiusError('DEPLOY_REFUSED', `refused ${refused.map((t) => t.taskId).join(', ')}`);
    const lost = request.tasks.filter((t) => this.unreachable.delete(t.taskId));
    if (lost.length > 0) throw new Error(`deploying to worker ${request.workerId} timed out after 30000 ms`);
    if (request.tasks.some((t) => this.hold.has(t.taskId))) await new Promise<void>((resolve) => this.held.push(resolve));
    // As a worker does: a deployment whose attempts were cancelled meanwhile starts nothing.
    this.fences(request.workerId).check(request.jobId, request.tasks);
    for (const t of request.tasks) this.running.set(t.taskId, { workerId: request.workerId, attempt: t.attempt });
    for (const t of request.tasks) if (!this.quiet.has(t.taskId)) queueMicrotask(() => this.report(t.taskId, t.attempt, 'RUNNING'));
  }

  private readonly fencesByWorker = new Map<string, AttemptFences>();

  fences(workerId: string): AttemptFences {
    let f = this.fencesByWorker.get(workerId);
    if (f === undefined) {
      f = new AttemptFences();
      this.fencesByWorker.set(workerId, f);
    }
    return f;
  }

  releaseHeld(): void {
    for (const r of this.held.splice(0)) r();
  }

  cancel(jobId: string, workerId: string, which?: CancelTasks): void {
    this.calls.push({ op: 'cancel', workerId, which });
    this.fences(workerId).cancelled(jobId, which, [...this.running.values()].filter((r) => r.workerId === workerId).map((r) => r.attempt));
    for (const [taskId, r] of [...this.running]) {
      if (r.workerId !== workerId || (which?.tasks !== undefined && !which.tasks.includes(taskId))) continue;
      if (which?.before?.[taskId] !== undefined && r.attempt >= which.before[taskId]) continue;
      this.running.delete(taskId);
      queueMicrotask(() => this.report(taskId, r.attempt, 'CANCELED'));
    }
  }

  triggerCheckpoint(_jobId: string, workerId: string, checkpointId: number): void {
    this.calls.push({ op: 'trigger', workerId, checkpointId });
    for (const [taskId, r] of this.running) {
      if (r.workerId !== workerId || this.silent.has(taskId)) continue;
      const snapshot = encodeTaskSnapshot({ taskId, checkpointId, operators: {}, inputs: {}, outputs: {} });
      void this.store.writeTaskState(this.jobId, checkpointId, taskId, snapshot).then((handle) => this.listener.acknowledgeCheckpoint(taskId, checkpointId, handle));
    }
  }

  notifyCheckpointComplete(_jobId: string, workerId: string, checkpointId: number): void {
    this.calls.push({ op: 'complete', workerId, checkpointId });
  }

  notifyCheckpointAborted(_jobId: string, workerId: string, checkpointId: number): void {
    this.calls.push({ op: 'aborted', workerId, checkpointId });
  }

  async replayStatus(_jobId: string, workerId: string): Promise<readonly string[]> {
    this.calls.push({ op: 'replay-status', workerId });
    return this.unreplayable;
  }

  async determinantsOf(_jobId: string, workerId: string, taskId: string): Promise<readonly Determinant[]> {
    this.calls.push({ op: 'determinants', workerId, taskId });
    return this.determinants;
  }

  rewire(_jobId: string, workerId: string, restarted: RestartedTasks): void {
    this.calls.push({ op: 'rewire', workerId, restarted });
    this.touched();
  }

  /** The task's current attempt fails (its worker reports it). */
  fail(taskId: string, error = `${taskId} broke`): void {
    const r = this.running.get(taskId)!;
    this.running.delete(taskId);
    this.report(taskId, r.attempt, 'FAILED', error);
  }

  finishAll(): void {
    for (const [taskId, r] of [...this.running]) this.report(taskId, r.attempt, 'FINISHED');
  }

  deployments(): TaskDeploymentRequest[] {
    return this.calls.flatMap((c) => (c.op === 'deploy' ? [c.request] : []));
  }

  private report(taskId: string, attempt: number, state: TaskRunState, error?: string): void {
    this.listener.taskStateChanged({ taskId, attempt, state, error });
    this.touched();
  }
}
