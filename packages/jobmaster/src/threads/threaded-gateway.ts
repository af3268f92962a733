import type { Worker } from 'node:worker_threads';
import {
  MobiusError,
  longestDeterminants,
  type CancelTasks,
  type Codec,
  type ControlMessage,
  type Determinant,
  type ExecutionPlan,
  type Logger,
  type LogicalGraph,
  type RescalePreparation,
  type RestartedTasks,
  type TaskDeploymentRequest,
  type TaskGateway,
  type TaskGatewayListener,
  type TaskMetrics,
} from '@mobius/interface';
import { decodeCollectBatch } from './collect-batches.js';
import { errorFromInfo } from './error-info.js';
import { metricsInPlanOrder } from './metrics-in-plan-order.js';
import { placeTasks } from './thread-placement.js';
import { RescaledPlans } from '../rescaled-plans.js';
import type { FromTaskThread, JobSource, ToTaskThread } from './task-thread-protocol.js';
import { ThreadRpc } from './thread-rpc.js';

export interface ThreadedGatewayOptions {
  readonly jobId: string;
  readonly name: string;
  readonly plan: ExecutionPlan;
  /** The job's graph: with it, the job can be rescaled live (new tasks go to the least busy thread). */
  readonly graph?: LogicalGraph;
  /** The module each thread imports in planning mode to get the job's functions. */
  readonly source: JobSource;
  readonly graphHash: string;
  /** At most this many threads (`execution.threads`); the job uses at most one per slot. */
  readonly threads: number;
  /**
   * Starts thread `index`: its entry module builds a ThreadTaskHost. Returns the Worker, the
   * thread's data endpoint and what to call once the thread imported the job (e.g. to let its
   * output through: what the module prints while imported was printed by the caller already).
   */
  spawn(index: number): { readonly worker: Worker; readonly endpoint: string; loaded?(): void };
  /** Where the job's snapshots go, when it checkpoints. */
  readonly checkpointDir?: string;
  /** Takes the records of the job's collect sinks (a `collect` message) and answers `ok` or `collect-full`. */
  collect?(message: Extract<ControlMessage, { type: 'collect' }>): Promise<ControlMessage>;
  /** The codec the threads encode collect batches with (`ThreadTaskHostOptions.collectCodec`). */
  readonly collectCodec?: Codec;
  readonly logger: Logger;
  /** Called once the threads stopped (`close()`): what the threads shared can go. */
  release?(): void;
}

interface TaskThread {
  readonly index: number;
  /** The thread's data endpoint. */
  readonly endpoint: string;
  readonly worker: Worker;
  readonly rpc: ThreadRpc<FromTaskThread>;
  /** Resolves once the thread imported and planned the job. */
  readonly loaded: Promise<void>;
  readonly onLoaded?: () => void;
}

/**
 * The TaskGateway of embedded mode with `execution.threads`: one worker (this process) whose
 * tasks run on worker_threads, each thread a ThreadTaskHost. Tasks are placed as Flink fills
 * slots (`placeTasks`); calls become messages to the threads that host the job's tasks, and
 * what the threads report goes to the listener (the job master). A thread that dies fails its
 * running tasks, and a new one takes its place (same index, same endpoint) for the recovery.
 */
export class ThreadedGateway implements TaskGateway {
  private listener: TaskGatewayListener | undefined;
  private readonly threadOf: Map<string, number>;
  /** The job's plan at its live rescales so far (for metrics and the placement of new tasks). */
  private readonly plans: RescaledPlans | undefined;
  readonly threadCount: number;
  private readonly threads: TaskThread[] = [];
  private readonly endpoints: Record<string, string> = {};
  /** Counters of the newest attempt of each task, as the threads last sent them. */
  private readonly latest = new Map<string, TaskMetrics>();
  /** taskId → attempt of the tasks running now. */
  private readonly running = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private closing = false;

  constructor(private readonly options: ThreadedGatewayOptions) {
    const placement = placeTasks(options.plan, options.threads);
    this.threadOf = new Map(placement.threadOf);
    this.threadCount = placement.used;
    this.plans = options.graph === undefined ? undefined : new RescaledPlans(options.graph, options.plan);
  }

  /** Starts the threads and has each import the job; rejects (threads stopped) when one cannot build the job's graph. */
  async start(): Promise<void> {
    // Every endpoint is known before any thread plans: each thread's tasks need all of them.
    for (let i = 0; i < this.threadCount; i++) this.spawnThread(i);
    for (let i = 0; i < this.threadCount; i++) this.threads[i] = this.load(this.threads[i]);
    try {
      await Promise.all(this.threads.map((t) => t.loaded));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private spawnThread(index: number): TaskThread {
    const { worker, endpoint, loaded } = this.options.spawn(index);
    for (const [taskId, t] of this.threadOf) if (t === index) this.endpoints[taskId] = endpoint;
    const rpc = new ThreadRpc<FromTaskThread>(worker, (m) => this.received(index, rpc, m));
    worker.on('error', (e) => this.options.logger.error({ jobId: this.options.jobId, thread: index, err: e }, 'a task thread failed'));
    worker.once('exit', (code) => this.lost(index, worker, rpc, code));
    const thread: TaskThread = { index, endpoint, worker, rpc, loaded: Promise.resolve(), onLoaded: loaded };
    this.threads[index] = thread;
    return thread;
  }

  /** Has the thread import and plan the job. */
  private load(thread: TaskThread): TaskThread {
    const { jobId, name, source, graphHash, checkpointDir } = this.options;
    const loaded = thread.rpc.request<void>({ t: 'load', jobId, name, source, graphHash, checkpointDir, endpoints: { ...this.endpoints } } satisfies Omit<Extract<ToTaskThread, { t: 'load' }>, 'id'>);
    loaded.then(thread.onLoaded, () => undefined);
    return { ...thread, loaded };
  }

  /** A thread ended: unless the job is closing, its running tasks failed, and a new thread takes its index. */
  private lost(index: number, worker: Worker, rpc: ThreadRpc<FromTaskThread>, code: number): void {
    rpc.fail(`task thread ${index} of job ${this.options.jobId} exited (code ${code})`);
    if (this.closing || this.threads[index]?.worker !== worker) return;
    this.options.logger.error({ jobId: this.options.jobId, thread: index, exitCode: code }, 'a task thread exited: its tasks failed, a new thread takes its place');
    this.threads[index] = this.load(this.spawnThread(index));
    for (const [taskId, attempt] of [...this.running]) {
      if (this.threadOf.get(taskId) !== index) continue;
      this.stateChanged({ taskId, attempt, state: 'FAILED', error: `its task thread exited (code ${code})`, metrics: this.latest.get(taskId) });
    }
  }

  private received(index: number, rpc: ThreadRpc<FromTaskThread>, m: FromTaskThread): void {
    switch (m.t) {
      case 'state': {
        const { cause, ...update } = m.update;
        this.stateChanged({ ...update, cause: cause === undefined ? undefined : errorFromInfo(cause) });
        return;
      }
      case 'metrics':
        for (const t of m.tasks) if ((this.latest.get(t.taskId)?.attempt ?? -1) <= t.attempt) this.latest.set(t.taskId, t);
        return;
      case 'ack':
        return this.listener?.acknowledgeCheckpoint(m.taskId, m.checkpointId, m.handle);
      case 'decline':
        return this.listener?.declineCheckpoint(m.taskId, m.checkpointId, m.reason);
      case 'collect': {
        const collect = this.options.collect;
        if (collect === undefined) {
          rpc.post({ t: 'reply', id: m.id, ok: false, error: { name: 'MobiusError', code: 'COLLECT_UNSUPPORTED', message: `job ${this.options.jobId} takes no collected records` } });
          return;
        }
        Promise.resolve()
          .then(() => collect(decodeCollectBatch(m, this.options.collectCodec)))
          .then(
          (value) => rpc.post({ t: 'reply', id: m.id, ok: true, value }),
          (e: unknown) => rpc.post({ t: 'reply', id: m.id, ok: false, error: { name: 'MobiusError', message: e instanceof Error ? e.message : String(e) } }),
        );
        return;
      }
      case 'reply':
        return; // taken by the rpc
      default:
        this.options.logger.warn({ jobId: this.options.jobId, thread: index }, 'unexpected message from a task thread');
    }
  }

  private stateChanged(update: Parameters<TaskGatewayListener['taskStateChanged']>[0]): void {
    if (update.metrics !== undefined) this.latest.set(update.taskId, update.metrics);
    if (update.state === 'RUNNING') this.running.set(update.taskId, update.attempt);
    else if (this.running.get(update.taskId) === update.attempt) this.running.delete(update.taskId);
    this.listener?.taskStateChanged({ ...update, workerId: 'local' });
    if (this.running.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  connect(listener: TaskGatewayListener): void {
    this.listener = listener;
  }

  async deploy(request: TaskDeploymentRequest): Promise<void> {
    this.plans?.planFor(request.overrides);
    const byThread = new Map<number, TaskDeploymentRequest['tasks'][number][]>();
    for (const task of request.tasks) {
      const index = this.threadOf.get(task.taskId);
      if (index === undefined) throw new MobiusError('DEPLOY_REFUSED', `job ${this.options.jobId} has no task ${task.taskId}`);
      let list = byThread.get(index);
      if (list === undefined) byThread.set(index, (list = []));
      list.push(task);
    }
    try {
      await Promise.all(
        [...byThread].map(async ([index, tasks]) => {
          const thread = this.threads[index];
          await thread.loaded;
          await thread.rpc.request<void>({ t: 'deploy', request: { ...request, tasks, endpoints: this.endpoints } });
        }),
      );
    } catch (e) {
      throw e instanceof MobiusError && e.code === 'DEPLOY_REFUSED' ? e : new MobiusError('DEPLOY_REFUSED', e instanceof Error ? e.message : String(e), { cause: e });
    }
  }

  /**
   * Live rescaling: each new task goes to the thread running the fewest tasks of the job (a task
   * id the job had keeps its thread); every thread's tasks learn what to do at the barrier.
   */
  async prepareRescale(_jobId: string, _workerId: string, preparation: RescalePreparation): Promise<void> {
    if (this.plans === undefined) throw new MobiusError('RESCALE_UNSUPPORTED', `job ${this.options.jobId}: its task threads were started without the job's graph`);
    const load = new Array<number>(this.threadCount).fill(0);
    const retiring = new Set(preparation.stop);
    for (const t of this.plans.current.tasks) if (!retiring.has(t.id)) load[this.threadOf.get(t.id) ?? 0]++;
    const endpoints: Record<string, string> = {};
    for (const taskId of Object.keys(preparation.attempts)) {
      let index = this.threadOf.get(taskId);
      if (index === undefined) {
        index = load.indexOf(Math.min(...load));
        this.threadOf.set(taskId, index);
      }
      load[index]++;
      endpoints[taskId] = this.endpoints[taskId] = this.threads[index].endpoint;
    }
    const message = { t: 'prepare-rescale', jobId: this.options.jobId, preparation: { ...preparation, endpoints } } as const;
    await Promise.all(this.threads.map((t) => t.loaded.then(() => t.rpc.request<void>(message))));
  }

  /** Every thread that hosts tasks of the job. */
  private broadcast(message: Exclude<ToTaskThread, { id: number }>): void {
    for (const t of this.threads) t.rpc.post(message);
  }

  /** Resolves once every thread stopped the tasks it was told to (a thread that is gone counts as stopped); never rejects. */
  async cancel(_jobId: string, _workerId: string, which?: CancelTasks): Promise<void> {
    await Promise.all(this.threads.map((t) => t.rpc.request<void>({ t: 'cancel', jobId: this.options.jobId, which }).catch(() => undefined)));
  }

  triggerCheckpoint(_jobId: string, _workerId: string, checkpointId: number, timestamp: number, savepoint: boolean): void {
    this.broadcast({ t: 'trigger', jobId: this.options.jobId, checkpointId, timestamp, savepoint });
  }

  notifyCheckpointComplete(_jobId: string, _workerId: string, checkpointId: number): void {
    this.broadcast({ t: 'complete', jobId: this.options.jobId, checkpointId });
  }

  notifyCheckpointAborted(_jobId: string, _workerId: string, checkpointId: number): void {
    this.broadcast({ t: 'aborted', jobId: this.options.jobId, checkpointId });
  }

  async replayStatus(): Promise<readonly string[]> {
    const lists = await Promise.all(this.threads.map((t) => t.rpc.request<string[]>({ t: 'replay-status', jobId: this.options.jobId }).catch(() => [] as string[])));
    return lists.flat();
  }

  async determinantsOf(_jobId: string, _workerId: string, taskId: string): Promise<readonly Determinant[]> {
    const lists = await Promise.all(this.threads.map((t) => t.rpc.request<Determinant[]>({ t: 'determinants', jobId: this.options.jobId, taskId }).catch(() => [] as Determinant[])));
    return longestDeterminants(lists);
  }

  rewire(_jobId: string, _workerId: string, restarted: RestartedTasks): void {
    this.broadcast({ t: 'rewire', jobId: this.options.jobId, restarted });
  }

  /** Counters of the newest attempt of every task, in plan order. */
  metrics(): TaskMetrics[] {
    return metricsInPlanOrder(this.plans?.current ?? this.options.plan, this.latest);
  }

  /** Resolves once no task runs. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Has every thread drop the job (final counters come back) and stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.rpc.request<void>({ t: 'unload', jobId: this.options.jobId }).catch(() => undefined)));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.options.release?.();
  }
}
