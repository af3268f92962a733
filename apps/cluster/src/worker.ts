import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { longestDeterminants } from '@mobius/interface';
import type { CheckpointListener, ControlMessage, ExecutionPlan, LogicalGraph, Logger, TaskMetrics, TaskSnapshot, Transport } from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { createPlan } from '@mobius/planner';
import { Task, attachTaskProgress, decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';
import { stateBackends } from './state-backend.js';
import { ZmqControlClient } from '@mobius/transport-zeromq';
import { createDataTransport } from './data-transports.js';
import { JobGraphs } from './job-graphs.js';
import { LocalFirstTransport } from '@mobius/transport-memory';
import { AttemptFences } from '@mobius/jobmaster';
import { HeartbeatSender } from './heartbeat-sender.js';
import { settledWithin } from './settled-within.js';
import { registerCollectForwarder } from '@mobius/runtime';

export interface WorkerOptions {
  /** The coordinator's control endpoint, e.g. tcp://127.0.0.1:6123. */
  readonly coordinator: string;
  readonly slots?: number;
  readonly token?: string;
  /** Address the data transport binds to (other workers connect to it). Default 127.0.0.1. */
  readonly host?: string;
  /** A module exporting `createTransport({ host, logger })`; default: the ZeroMQ transport. */
  readonly transport?: string;
  readonly logger: Logger;
  /** CURVE keys for the data channels (one key pair shared by the cluster's workers). */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
  /** How long to keep trying to register while the coordinator is not up. Default 30 s. */
  readonly registerTimeoutMs?: number;
}

interface DeployedJob {
  readonly graph: LogicalGraph;
  /** Running tasks. */
  readonly tasks: Map<string, Task>;
  /** Tasks that finished, kept until the job ends: a restarted downstream task may need their replay. */
  readonly ended: Map<string, Task>;
  plan?: ExecutionPlan;
  /** taskId → data endpoint, updated when tasks restart elsewhere. */
  endpoints: Record<string, string>;
}

/** Longest a cancel request waits for its tasks to stop (the coordinator gives up sooner, after its heartbeat timeout). */
const CANCEL_WAIT_MS = 10_000;

/** A worker process: registers its slots, runs the tasks it is given, reports their states. */
export class Worker {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 6)}`;
  private transport: Transport | undefined;
  private control: ZmqControlClient | undefined;
  /** Publishes the task list to the heartbeat thread, which sends the heartbeats. */
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeats: HeartbeatSender;
  private readonly jobs = new Map<string, DeployedJob>();
  /** Attempts cancelled per job: a deployment of one that completes late (a slow import) starts nothing. */
  private readonly fences = new AttemptFences();
  /** Tasks told to cancel that are still winding down: no longer reported as running. */
  private readonly cancelling = new WeakSet<Task>();
  /** Each task's run, which settles once it stopped and closed its functions (a sink its in-progress files). */
  private readonly runs = new WeakMap<Task, Promise<void>>();
  /** Checkpoint stores by folder (a shared mount on a real cluster). */
  private readonly stores = new Map<string, FsCheckpointStore>();
  /** Jobs whose collect sinks forward to the coordinator: the call that unregisters each. */
  private readonly collecting = new Map<string, () => void>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'mobius-worker-'));
  private readonly graphs = new JobGraphs(this.dir);
  private readonly logger: Logger;
  private stopped = false;

  constructor(private readonly options: WorkerOptions) {
    this.logger = options.logger.child({ workerId: this.id });
    this.heartbeats = new HeartbeatSender(this.logger);
  }

  get endpoint(): string {
    return this.transport!.endpoint;
  }

  async start(): Promise<void> {
    // Loading the heartbeat thread takes a while: it starts now, beside the rest.
    const heartbeatThread = this.heartbeats.start(this.options.coordinator, this.id);
    heartbeatThread.catch(() => undefined);
    this.transport = new LocalFirstTransport(await this.createTransport(), this.id);
    await this.transport.start();
    this.control = new ZmqControlClient({ serverEndpoint: this.options.coordinator, id: this.id, logger: this.logger });
    this.control.onRequest((_from, message) => this.handleRequest(message));
    this.control.onPush((_from, message) => this.handlePush(message));
    await this.control.start();
    const registered = await this.register();
    // Heartbeats come from a thread of their own, which task code cannot hold up; this thread
    // publishes the task list to it at its own pace (and sends heartbeats itself until the
    // thread runs).
    this.heartbeat = setInterval(() => void this.publishTasks(), registered.heartbeatMs);
    void this.publishTasks();
    void heartbeatThread.then(
      () => {
        if (this.stopped) return;
        this.heartbeats.publish(this.taskMetrics());
        this.heartbeats.begin(registered.heartbeatMs);
      },
      (e: unknown) => this.logger.error({ err: e }, 'the heartbeat thread did not start: heartbeats come from the main thread, which task code can hold up'),
    );
    this.logger.info({ endpoint: this.endpoint, slots: this.options.slots ?? 4, coordinator: this.options.coordinator }, 'worker registered');
  }

  private async createTransport(): Promise<Transport> {
    return createDataTransport(this.options.transport, { host: this.options.host ?? '127.0.0.1', logger: this.logger, curve: this.options.curve });
  }

  private async register(): Promise<{ heartbeatMs: number }> {
    const deadline = Date.now() + (this.options.registerTimeoutMs ?? 30_000);
    const tasks: Extract<ControlMessage, { type: 'register' }>['tasks'] = [...this.jobs].flatMap(([jobId, job]) => [
      ...[...job.tasks.values()].map((t) => ({ jobId, taskId: t.id, attempt: t.metrics().attempt, state: 'RUNNING' as const, metrics: t.metrics() })),
      ...[...job.ended.values()].map((t) => ({ jobId, taskId: t.id, attempt: t.metrics().attempt, state: 'FINISHED' as const, metrics: t.metrics() })),
    ]);
    const message: ControlMessage = { type: 'register', workerId: this.id, endpoint: this.endpoint, slots: this.options.slots ?? 4, pid: process.pid, token: this.options.token, tasks };
    for (;;) {
      try {
        const reply = await this.control!.request('coordinator', message, 2000);
        if (reply.type === 'registered') return reply;
        if (reply.type === 'error') throw new Error(`the coordinator refused this worker: ${reply.message}`);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('the coordinator refused')) throw e;
        if (Date.now() > deadline) throw new Error(`could not register with the coordinator at ${this.options.coordinator}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /**
   * Metrics of the running tasks, each named `jobId/taskId` (as heartbeats name them). A task told
   * to cancel is left out at once, though its loop may take a while to stop.
   */
  private taskMetrics(): TaskMetrics[] {
    const tasks: TaskMetrics[] = [];
    for (const [jobId, job] of this.jobs) {
      for (const t of job.tasks.values()) if (!this.cancelling.has(t)) tasks.push({ ...t.metrics(), taskId: `${jobId}/${t.id}` });
    }
    return tasks;
  }

  /** Resolves once the next heartbeat carries the current task list (the thread took it, or this thread sent it). */
  private publishTasks(): Promise<void> {
    const tasks = this.taskMetrics();
    if (this.heartbeats.running) return this.heartbeats.publish(tasks);
    this.control!.push('coordinator', { type: 'heartbeat', workerId: this.id, time: Date.now(), tasks });
    return Promise.resolve();
  }

  private async handleRequest(message: ControlMessage): Promise<ControlMessage> {
    if (message.type === 'get-determinants') {
      return { type: 'determinants', entries: longestDeterminants(this.allTasks(message.jobId).map((t) => t.determinantsOf(message.taskId))) };
    }
    if (message.type === 'get-replay-status') {
      return { type: 'replay-status', unreplayable: this.allTasks(message.jobId).flatMap((t) => t.unreplayableOutputs()) };
    }
    if (message.type === 'cancel') {
      // Answered once the heartbeats no longer list the tasks and the tasks stopped (or a bound
      // passed): the coordinator may then end the job, and nothing of it runs here any more.
      const stopping = this.cancel(message);
      await this.publishTasks();
      await settledWithin(stopping.map((t) => this.runs.get(t)), CANCEL_WAIT_MS);
      return { type: 'ok' };
    }
    if (message.type !== 'deploy') return { type: 'error', code: 'UNKNOWN_REQUEST', message: `unexpected request '${message.type}'` };
    try {
      await this.deploy(message);
      return { type: 'ok' };
    } catch (e) {
      this.logger.error({ jobId: message.jobId, err: e }, 'deployment refused');
      return { type: 'error', code: (e as { code?: string }).code ?? 'DEPLOY_FAILED', message: e instanceof Error ? e.message : String(e) };
    }
  }

  private async deploy(message: Extract<ControlMessage, { type: 'deploy' }>): Promise<void> {
    this.fences.check(message.jobId, message.tasks);
    // Every await comes before the job's entry is looked up: deployments of one job run
    // concurrently (one request per task in a recovery), and an entry made before an await
    // could be replaced by another deployment's, leaving this one's tasks unreachable.
    const graph = this.jobs.get(message.jobId)?.graph ?? (await this.graphs.of(message));
    const store = message.checkpointDir === undefined ? undefined : this.storeAt(message.checkpointDir);
    const restore = message.restore === undefined ? undefined : await this.readSnapshots(this.storeAt(message.restore.dir), message.restore.handles);
    // The job master may have cancelled this attempt while the job was imported or its snapshots read.
    this.fences.check(message.jobId, message.tasks);
    let job = this.jobs.get(message.jobId);
    if (job === undefined) {
      job = { graph, tasks: new Map(), ended: new Map(), endpoints: {} };
      this.jobs.set(message.jobId, job);
    }
    const plan = job.plan ?? createPlan(job.graph, message.name);
    job.plan = plan;
    if (!this.collecting.has(message.jobId)) {
      const unregister = registerCollectForwarder(message.jobId, plan, (m, timeoutMs) => this.control!.request('coordinator', m, timeoutMs));
      if (unregister !== undefined) this.collecting.set(message.jobId, unregister);
    }
    job.endpoints = { ...job.endpoints, ...message.endpoints };
    const services = {
      transport: this.transport!,
      endpointOf: (taskId: string) => message.endpoints[taskId],
      stateBackend: stateBackends.create(plan.config),
      logger: this.logger,
      checkpoints: store === undefined ? undefined : this.checkpointListener(message.jobId, store),
      replay: true,
    };
    const { attempts, staleCheckpointsThrough } = message;
    const created = message.tasks.map(
      ({ taskId, attempt, determinants }) => new Task({ jobId: message.jobId, plan, graph: job.graph, taskId, attempt, restore, attempts, determinants, staleCheckpointsThrough }, services),
    );
    for (const task of created) {
      // A new attempt replaces an old one still winding down (or kept ended) here.
      job.tasks.get(task.id)?.cancel();
      job.ended.get(task.id)?.dispose();
      job.ended.delete(task.id);
      job.tasks.set(task.id, task);
      this.runs.set(task, this.runTask(message.jobId, task, plan));
    }
  }

  private storeAt(dir: string): FsCheckpointStore {
    let store = this.stores.get(dir);
    if (store === undefined) {
      store = new FsCheckpointStore({ directory: dir, logger: this.logger });
      this.stores.set(dir, store);
    }
    return store;
  }

  /** Every task snapshot of the checkpoint (keyed state may come from any old task when rescaled). */
  private readSnapshots(store: FsCheckpointStore, handles: readonly string[]): Promise<TaskSnapshot[]> {
    return Promise.all(handles.map(async (h) => decodeTaskSnapshot(await store.readTaskState(h))));
  }

  /** Snapshots go to the shared store; the coordinator gets the handle. */
  private checkpointListener(jobId: string, store: FsCheckpointStore): CheckpointListener {
    return {
      acknowledge: (snapshot) => {
        void store.writeTaskState(jobId, snapshot.checkpointId, snapshot.taskId, encodeTaskSnapshot(snapshot)).then(
          (handle) => this.control?.push('coordinator', { type: 'ack-checkpoint', jobId, taskId: snapshot.taskId, checkpointId: snapshot.checkpointId, handle }),
          (e: unknown) =>
            this.control?.push('coordinator', { type: 'decline-checkpoint', jobId, taskId: snapshot.taskId, checkpointId: snapshot.checkpointId, reason: `writing the snapshot failed: ${(e as Error).message}` }),
        );
      },
      decline: (taskId, checkpointId, reason) => this.control?.push('coordinator', { type: 'decline-checkpoint', jobId, taskId, checkpointId, reason }),
    };
  }

  private async runTask(jobId: string, task: Task, plan: ExecutionPlan): Promise<void> {
    const report = (state: 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): void => {
      try {
        this.control?.push('coordinator', { type: 'task-state', jobId, taskId: task.id, attempt: task.metrics().attempt, state, error, metrics: task.metrics() });
      } catch (e) {
        if (!this.stopped) this.logger.warn({ jobId, taskId: task.id, state, err: e }, 'reporting a task state failed');
      }
    };
    const progress = this.heartbeats.claim(`${jobId}/${task.id}`, task.metrics().attempt);
    attachTaskProgress(task, progress.progress);
    report('RUNNING');
    try {
      await task.run();
      report(task.state === 'CANCELED' ? 'CANCELED' : 'FINISHED');
    } catch (e) {
      report('FAILED', e instanceof Error ? e.message : String(e));
    } finally {
      progress.release();
      const job = this.jobs.get(jobId);
      if (job !== undefined && job.tasks.get(task.id) === task) {
        job.tasks.delete(task.id);
        if (task.state === 'FINISHED') job.ended.set(task.id, task);
      }
      if (job !== undefined && job.tasks.size === 0 && job.ended.size === 0) this.endJob(jobId, plan);
    }
  }

  /** Drops a job's tasks (running ones are cancelled, ended ones release their replay buffers). */
  private endJob(jobId: string, plan: ExecutionPlan): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    for (const t of job.ended.values()) t.dispose();
    job.ended.clear();
    if (job.tasks.size > 0) return;
    this.jobs.delete(jobId);
    this.collecting.get(jobId)?.();
    this.collecting.delete(jobId);
    stateBackends.dispose(plan.config, jobId);
  }

  /** Every task of the job here, running or ended. */
  private allTasks(jobId: string): Task[] {
    const job = this.jobs.get(jobId);
    return job === undefined ? [] : [...job.tasks.values(), ...job.ended.values()];
  }

  private reregistering = false;

  private handlePush(message: ControlMessage): void {
    if (message.type === 'reregister') {
      if (this.reregistering || this.stopped) return;
      this.reregistering = true;
      this.logger.warn({ jobs: this.jobs.size }, 'the coordinator does not know this worker (it restarted?): registering again with the running tasks');
      void this.register()
        .catch((e: unknown) => this.logger.error({ err: e }, 'registering again failed'))
        .finally(() => (this.reregistering = false));
      return;
    }
    if (message.type === 'trigger-checkpoint') {
      const job = this.jobs.get(message.jobId);
      if (job === undefined) return;
      const sources = new Set(job.graph.nodes.filter((n) => n.kind === 'source').map((n) => n.id));
      for (const t of job.tasks.values()) {
        if (sources.has(t.vertex.operatorIds[0])) t.triggerCheckpoint(message.checkpointId, message.timestamp, message.savepoint === true ? 'savepoint' : 'checkpoint');
      }
      return;
    }
    if (message.type === 'checkpoint-aborted') {
      for (const t of this.jobs.get(message.jobId)?.tasks.values() ?? []) t.notifyCheckpointAborted(message.checkpointId);
      return;
    }
    if (message.type === 'checkpoint-complete') {
      const job = this.jobs.get(message.jobId);
      for (const t of job?.tasks.values() ?? []) void t.notifyCheckpointComplete(message.checkpointId);
      return;
    }
    if (message.type === 'rewire') {
      const job = this.jobs.get(message.jobId);
      if (job === undefined) return;
      for (const [taskId, r] of Object.entries(message.restarted)) job.endpoints[taskId] = r.endpoint;
      const endpointOf = (taskId: string): string => job.endpoints[taskId];
      this.logger.debug({ jobId: message.jobId, restarted: Object.keys(message.restarted), running: [...job.tasks.keys()], ended: [...job.ended.keys()] }, 'rewiring');
      for (const t of this.allTasks(message.jobId)) {
        if (message.restarted[t.id] !== undefined) continue; // a new attempt: wired at deployment
        try {
          t.rewire(message.restarted, endpointOf);
        } catch (e) {
          this.logger.error({ jobId: message.jobId, taskId: t.id, err: e }, 're-opening channels to restarted tasks failed');
        }
      }
      return;
    }
    if (message.type === 'cancel') {
      this.cancel(message);
      if (this.heartbeat !== undefined) void this.publishTasks();
    }
  }

  /** Cancels the job's tasks the message names; they leave the heartbeats' task list now. Returns the running ones it cancelled. */
  private cancel(message: Extract<ControlMessage, { type: 'cancel' }>): Task[] {
    const job = this.jobs.get(message.jobId);
    // Remembered even for a job not here yet: its deployment may still be on its way.
    this.fences.cancelled(message.jobId, message, job === undefined ? [] : [...job.tasks.values(), ...job.ended.values()].map((t) => t.metrics().attempt));
    if (job === undefined) return [];
    const only = message.tasks === undefined ? undefined : new Set(message.tasks);
    const before = message.before;
    const hit = (t: Task): boolean => (only === undefined || only.has(t.id)) && (before?.[t.id] === undefined || t.metrics().attempt < before[t.id]);
    this.logger.info({ jobId: message.jobId, tasks: only === undefined ? job.tasks.size : only.size, before }, before === undefined ? 'cancelling job tasks' : 'cancelling stale task attempts (fenced by the coordinator)');
    const cancelled: Task[] = [];
    for (const t of job.tasks.values()) {
      if (!hit(t)) continue;
      this.cancelling.add(t);
      t.cancel();
      cancelled.push(t);
    }
    for (const [id, t] of [...job.ended]) {
      if (!hit(t)) continue;
      t.dispose();
      job.ended.delete(id);
    }
    if (job.plan !== undefined && job.tasks.size === 0 && job.ended.size === 0) this.endJob(message.jobId, job.plan);
    return cancelled;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const job of this.jobs.values()) {
      for (const t of job.tasks.values()) t.cancel();
      for (const t of job.ended.values()) t.dispose();
    }
    await this.heartbeats.stop();
    await this.control?.close();
    await this.transport?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
