// The coordinator process: worker registration, fencing, heartbeats and liveness, and the
// routing of control messages to one JobMaster per job (which owns everything else of a job).
// Why this file is over 400 lines: registration, fencing and liveness share the worker table
// (each job's JobMaster is made and taken back in cluster-job-masters.ts).
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  CoreOptions,
  InsufficientSlotsError,
  MobiusError,
  getConfig,
  type ControlChannel,
  type ControlMessage,
  type Logger,
  type TaskMetrics,
  type TaskProgressReport,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { FsJobStore } from '@mobius/jobmaster';
import { SlotScheduler } from '@mobius/scheduler';
import { PeerLogLimiter, ZmqControlServer } from '@mobius/transport-zeromq';
import { ClusterJob } from './cluster-job.js';
import { CollectStore } from './collect-store.js';
import { readSavepointFolder } from './savepoint-folder.js';
import { LoopPauses } from './loop-pauses.js';
import { ClusterJobMasters } from './cluster-job-masters.js';
import { describeWorker, runningAttempt, type RunningAttempt, type WorkerRecord } from './worker-record.js';
import { JobPlanner, writeBundle, type JobPlannerOptions } from '@mobius/job-loader';
import { planningError } from './planning-error.js';
import { isLoopback, tokenMatches } from './token.js';
import { workerProcessGone } from './worker-liveness.js';
import { workerOfHeartbeatPeer } from './heartbeat-peer.js';
import { TaskStallMonitor } from './heartbeat-stalls.js';

export interface CoordinatorOptions {
  /** Address to listen on (control and HTTP). Default 127.0.0.1. */
  readonly host?: string;
  /** Control port (workers connect here). Default 6123; 0 picks a free port. */
  readonly port?: number;
  /** HTTP API port. Default 8081; 0 picks a free port. */
  readonly httpPort?: number;
  /** Where job bundles (and later checkpoint metadata) are kept. Default: a temp folder. */
  readonly dataDir?: string;
  /** Shared token for workers and API clients. Required when listening beyond loopback. */
  readonly token?: string;
  /** A worker silent for this long is lost. Default 2000 ms. */
  readonly heartbeatTimeoutMs?: number;
  /** A worker that has not taken its tasks of a deployment in this time fails it (`--deploy-timeout-ms`). Default 30000 ms. */
  readonly deployTimeoutMs?: number;
  /**
   * Limits of the child processes that plan submitted jobs (`job.plan.timeout.ms` is
   * `timeoutMs`): user code never runs in the coordinator's own process.
   */
  readonly planning?: JobPlannerOptions;
  readonly logger: Logger;
}

/** Longest a `ping` waits for a worker's main thread. */
const PING_TIMEOUT_MS = 5000;

export class ClusterError extends MobiusError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

/**
 * The coordinator: workers register on the control channel; jobs arrive as bundles, are planned
 * here, placed on slots and deployed; task states and heartbeats come back from workers.
 */
export class Coordinator {
  readonly host: string;
  readonly token: string | undefined;
  readonly heartbeatTimeoutMs: number;
  readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  readonly scheduler = new SlotScheduler();
  readonly workers = new Map<string, WorkerRecord>();
  readonly jobs = new Map<string, ClusterJob>();
  /** Records of jobs' collect sinks, for the clients that submitted them. */
  readonly collected = new CollectStore();
  private control: ControlChannel | undefined;
  private server: ZmqControlServer | undefined;
  private monitor: NodeJS.Timeout | undefined;
  private pauses: LoopPauses | undefined;
  private masters: ClusterJobMasters | undefined;
  private readonly logger: Logger;
  /** Refused registrations come from the network: rate-limited per peer, so a scanner cannot flood the log. */
  private readonly refusals: PeerLogLimiter;
  private readonly jobStore: FsJobStore;
  /** Imports submitted bundles in child processes, so a job's code cannot stop or stall this one. */
  readonly planner: JobPlanner;
  /** Busy or stalled: the task progress the workers' heartbeat threads report. */
  readonly stalls: TaskStallMonitor;

  constructor(private readonly options: CoordinatorOptions) {
    this.planner = new JobPlanner(options.planning);
    this.host = options.host ?? '127.0.0.1';
    this.token = options.token;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 2000;
    this.logger = options.logger;
    this.refusals = new PeerLogLimiter(this.logger);
    this.stalls = new TaskStallMonitor(this.heartbeatTimeoutMs);
    if (!isLoopback(this.host) && this.token === undefined) {
      throw new ClusterError('TOKEN_REQUIRED', `a token is required to listen on ${this.host} (a non-loopback address): pass --token, MOBIUS_TOKEN or --token-file`, 500);
    }
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? join(tmpdir(), `mobius-coordinator-${process.pid}-${randomUUID().slice(0, 8)}`);
    mkdirSync(join(this.dataDir, 'jobs'), { recursive: true });
    this.jobStore = new FsJobStore(join(this.dataDir, 'jobs'));
  }

  get controlEndpoint(): string {
    return this.server!.endpoint;
  }

  async start(): Promise<void> {
    const server = new ZmqControlServer({ endpoint: `tcp://${this.host}:${this.options.port ?? 6123}`, logger: this.logger });
    this.server = server;
    this.control = server;
    this.masters = new ClusterJobMasters({
      control: server,
      scheduler: this.scheduler,
      logger: this.logger,
      jobStore: this.jobStore,
      planner: this.planner,
      dataDir: this.dataDir,
      heartbeatTimeoutMs: this.heartbeatTimeoutMs,
      deployTimeoutMs: this.options.deployTimeoutMs,
      onEnded: (jobId) => this.stalls.forgetJob(jobId),
    });
    for (const job of await this.masters.takeBack()) this.jobs.set(job.id, job);
    server.onRequest((from, message) => this.handleRequest(from, message));
    server.onPush((from, message) => this.handlePush(from, message));
    // A closed connection is seen in milliseconds; a worker that then stays silent for half the
    // heartbeat timeout is lost (a live one reconnects and sends a heartbeat well within that).
    server.onPeer('disconnected', (peer) => {
      const ofThread = workerOfHeartbeatPeer(peer);
      const worker = this.workers.get(ofThread ?? peer);
      if (worker === undefined) return;
      // The main connection of a worker with a heartbeat thread goes quiet while task code holds
      // the main thread (busy, not dead): only its heartbeat connection, or its pid, tells.
      if (ofThread !== undefined || worker.heartbeatThread !== true) worker.disconnectedAt = Date.now();
      // A worker on this machine whose process is gone is lost now, not after the grace.
      if (workerProcessGone(worker)) this.workerLost(worker, `${describeWorker(worker)} lost: its connection closed and its process is gone`);
    });
    await server.start();
    const every = Math.max(50, Math.min(250, Math.floor(this.heartbeatTimeoutMs / 4)));
    this.pauses = new LoopPauses(every, Math.floor(this.heartbeatTimeoutMs / 4));
    this.monitor = setInterval(() => this.checkHeartbeats(), every);
    this.logger.info({ control: this.controlEndpoint, dataDir: this.dataDir }, 'coordinator started');
  }

  private handleRequest(from: string, message: ControlMessage): ControlMessage | Promise<ControlMessage> {
    if (message.type === 'collect') return this.acceptCollected(from, message);
    if (message.type !== 'register') return { type: 'error', code: 'UNKNOWN_REQUEST', message: `unexpected request '${message.type}'` };
    if (!tokenMatches(this.token, message.token)) {
      this.refusals.report('warn', from, 'worker registration refused: bad or missing token', { workerId: message.workerId, from });
      return { type: 'error', code: 'UNAUTHORIZED', message: 'registration refused: bad or missing token' };
    }
    if (!Number.isInteger(message.slots) || message.slots < 1) {
      return { type: 'error', code: 'INVALID_WORKER', message: `worker ${message.workerId}: slots must be a positive integer` };
    }
    const slotEndpoints: unknown = message.slotEndpoints;
    if (slotEndpoints !== undefined && (!Array.isArray(slotEndpoints) || slotEndpoints.length === 0 || !slotEndpoints.every((e) => typeof e === 'string' && e.length > 0))) {
      return { type: 'error', code: 'INVALID_WORKER', message: `worker ${message.workerId}: slotEndpoints must be a non-empty list of endpoint strings` };
    }
    const reported = message.tasks ?? [];
    const record: WorkerRecord = {
      id: from,
      endpoint: message.endpoint,
      slotEndpoints: message.slotEndpoints,
      slots: message.slots,
      pid: message.pid,
      lastHeartbeat: Date.now(),
      registeredAt: Date.now(),
      running: reported.filter((r) => r.state === 'RUNNING').map((r) => ({ jobId: r.jobId, taskId: r.taskId, attempt: r.attempt })),
    };
    this.workers.set(from, record);
    this.scheduler.registerWorker({ id: from, endpoint: message.endpoint, slots: message.slots, pid: message.pid, slotEndpoints: message.slotEndpoints });
    this.reregisterAsked.delete(from);
    // A worker this coordinator declared lost (silent, not dead: a pause, a partition) comes back
    // with the attempts it ran: they were all recovered elsewhere, so they are stale.
    const wasLost = this.lostWorkers.delete(from);
    const stale = new Map<string, Map<string, number>>();
    for (const r of reported) {
      const job = this.jobs.get(r.jobId);
      const task = job?.tasks.get(r.taskId);
      if (!wasLost && job !== undefined && task !== undefined && job.resuming !== undefined && task.attempt === r.attempt) {
        task.workerId = from;
        task.state = r.state;
        if (r.metrics !== undefined) task.metrics = { ...r.metrics, taskId: r.taskId };
        job.resuming.reported.add(r.taskId);
        continue;
      }
      // Not stale: the task's current attempt, on this worker, of a job still running.
      if (!wasLost && job !== undefined && !job.terminal && task?.attempt === r.attempt && task.workerId === from) continue;
      let tasks = stale.get(r.jobId);
      if (tasks === undefined) stale.set(r.jobId, (tasks = new Map()));
      tasks.set(r.taskId, Math.max(tasks.get(r.taskId) ?? 0, r.attempt + 1));
    }
    if (stale.size > 0) queueMicrotask(() => this.fence(from, stale, wasLost));
    for (const job of this.jobs.values()) job.jobMaster?.slotsFreed();
    for (const job of this.jobs.values()) if (job.resuming !== undefined) this.masters!.maybeResume(job, false);
    this.logger.info({ workerId: from, endpoint: message.endpoint, slots: message.slots, workerPid: message.pid }, 'worker registered');
    return { type: 'registered', workerId: from, heartbeatMs: Math.max(50, Math.floor(this.heartbeatTimeoutMs / 4)) };
  }

  private handlePush(from: string, message: ControlMessage): void {
    if (message.type === 'heartbeat') {
      this.heartbeat(from, message);
      return;
    }
    if (message.type === 'ack-checkpoint') {
      if (this.fromCurrentWorker(from, message.jobId, message.taskId)) this.jobs.get(message.jobId)?.jobMaster?.acknowledgeCheckpoint(message.taskId, message.checkpointId, message.handle);
      return;
    }
    if (message.type === 'decline-checkpoint') {
      if (this.fromCurrentWorker(from, message.jobId, message.taskId)) this.jobs.get(message.jobId)?.jobMaster?.declineCheckpoint(message.taskId, message.checkpointId, message.reason);
      return;
    }
    if (message.type === 'task-state') {
      this.jobs.get(message.jobId)?.jobMaster?.taskStateChanged({ taskId: message.taskId, attempt: message.attempt, state: message.state, error: message.error, metrics: message.metrics, workerId: from });
    }
  }

  /** A heartbeat, from a worker's heartbeat thread (or from the worker itself). */
  private heartbeat(from: string, message: Extract<ControlMessage, { type: 'heartbeat' }>): void {
    const workerId = workerOfHeartbeatPeer(from) ?? from;
    // A peer speaks for its own worker only.
    if (workerId !== message.workerId) return;
    const worker = this.workers.get(workerId);
    if (worker === undefined) {
      // Unknown here (this coordinator restarted, or the worker was declared lost): it must
      // register again, telling which tasks it runs.
      const asked = this.reregisterAsked.get(workerId) ?? 0;
      if (Date.now() - asked > 1000) {
        this.reregisterAsked.set(workerId, Date.now());
        this.control!.push(workerId, { type: 'reregister' });
      }
      return;
    }
    worker.lastHeartbeat = Date.now();
    worker.disconnectedAt = undefined;
    if (from !== workerId) worker.heartbeatThread = true;
    worker.running = message.tasks.map(runningAttempt);
    for (let i = 0; i < message.tasks.length; i++) this.updateMetrics(worker.running[i], message.tasks[i]);
    if (message.progress !== undefined) this.checkStalls(worker, message.progress);
  }

  /**
   * A stalled task (holding its worker's thread with input in hand, no record processed) is a
   * metric; past its job's `task.stall.timeout.ms` it is failed and recovered as any failed task,
   * and its attempt is cancelled on the worker (which takes the cancel when the thread is free).
   */
  private checkStalls(worker: WorkerRecord, progress: readonly TaskProgressReport[]): void {
    const verdicts = this.stalls.observe(progress, Date.now(), (jobId, taskId, attempt) => {
      const job = this.jobs.get(jobId);
      const task = job?.tasks.get(taskId);
      if (job === undefined || job.terminal || task === undefined || task.attempt !== attempt || task.workerId !== worker.id) return undefined;
      return getConfig(job.plan.config, CoreOptions.TASK_STALL_TIMEOUT_MS);
    });
    for (const v of verdicts) {
      const timeoutMs = getConfig(this.jobs.get(v.jobId)!.plan.config, CoreOptions.TASK_STALL_TIMEOUT_MS);
      const where = `on ${describeWorker(worker)}`;
      if (v.kind === 'stall') {
        this.logger.warn({ jobId: v.jobId, taskId: v.taskId, attempt: v.attempt, workerId: worker.id, stalledMs: v.stalledMs, stallTimeoutMs: timeoutMs }, `task ${v.taskId} stalled ${where}: no record processed for ${v.stalledMs} ms with input in hand`);
        continue;
      }
      const reason = `task ${v.taskId} stalled ${where}: no record processed for ${v.stalledMs} ms with input in hand (task.stall.timeout.ms ${timeoutMs})`;
      this.logger.error({ jobId: v.jobId, taskId: v.taskId, attempt: v.attempt, workerId: worker.id, stalledMs: v.stalledMs }, reason);
      this.control!.push(worker.id, { type: 'cancel', jobId: v.jobId, tasks: [v.taskId], before: { [v.taskId]: v.attempt + 1 } });
      this.jobs.get(v.jobId)?.jobMaster?.taskFailed([v.taskId], reason);
    }
  }

  /**
   * Checkpoint acknowledgements count only from the worker that runs the task's current attempt
   * (a stale attempt on a worker declared lost must not complete a checkpoint).
   */
  private fromCurrentWorker(from: string, jobId: string, taskId: string): boolean {
    const task = this.jobs.get(jobId)?.tasks.get(taskId);
    if (task === undefined || task.workerId === from) return true;
    this.logger.warn({ jobId, taskId, from, current: task.workerId }, 'ignored a checkpoint message from a worker that does not run the task');
    return false;
  }

  /** Workers declared lost (and not registered since): their attempts are stale if they come back. */
  private readonly lostWorkers = new Set<string>();
  /** Stale task attempts cancelled on workers that came back, for GET /metrics. */
  staleAttemptsFenced = 0;

  /**
   * Cancels stale task attempts on a worker that registered (again): `before` keeps any newer
   * attempt the worker may be given meanwhile.
   */
  private fence(workerId: string, stale: ReadonlyMap<string, ReadonlyMap<string, number>>, wasLost: boolean): void {
    if (!this.workers.has(workerId)) return;
    for (const [jobId, tasks] of stale) {
      const known = this.jobs.get(jobId);
      const before = Object.fromEntries(tasks);
      this.staleAttemptsFenced += tasks.size;
      this.logger.warn(
        { workerId, jobId, tasks: before },
        known === undefined || known.terminal
          ? `fencing: worker ${workerId} still runs tasks of ${known === undefined ? 'an unknown' : 'an ended'} job; cancelling them`
          : `fencing: worker ${workerId}${wasLost ? ', declared lost earlier,' : ''} runs ${tasks.size} stale task attempt(s) that were recovered elsewhere; cancelling them`,
      );
      this.control!.push(workerId, { type: 'cancel', jobId, tasks: [...tasks.keys()], before });
    }
  }

  private updateMetrics(at: RunningAttempt, m: TaskMetrics): void {
    const task = this.jobs.get(at.jobId)?.tasks.get(at.taskId);
    if (task !== undefined && task.attempt === at.attempt) task.metrics = { ...m, taskId: task.taskId };
  }

  private readonly reregisterAsked = new Map<string, number>();

  /** Takes a savepoint of a running job; resolves with its id and folder (for --from-savepoint). */
  async savepoint(jobId: string): Promise<{ checkpointId: number; path: string }> {
    const job = this.job(jobId);
    const master = job.jobMaster;
    if (job.state !== 'RUNNING' || master?.checkpointing?.current === undefined) throw new ClusterError('JOB_NOT_RUNNING', `job ${jobId} is ${job.state}: a savepoint needs a running job`, 409);
    const metadata = await master.savepoint();
    return { checkpointId: metadata.checkpointId, path: job.store!.checkpointDirectory(job.id, metadata.checkpointId) };
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    // Silence while this process was held is not the workers': their heartbeats wait in the socket.
    const held = this.pauses?.held(now) ?? 0;
    if (held > 0) {
      this.logger.warn({ heldMs: held }, `the coordinator was held for ${held} ms (a GC pause, a stopped process or a starved machine): that time does not count as workers' silence`);
      for (const worker of this.workers.values()) {
        worker.lastHeartbeat = Math.min(now, worker.lastHeartbeat + held);
        if (worker.disconnectedAt !== undefined) worker.disconnectedAt = Math.min(now, worker.disconnectedAt + held);
      }
    }
    for (const job of this.jobs.values()) if (job.resuming !== undefined && now > job.resuming.deadline) this.masters!.maybeResume(job, true);
    const grace = Math.floor(this.heartbeatTimeoutMs / 2);
    for (const worker of [...this.workers.values()]) {
      const silent = now - worker.lastHeartbeat;
      const name = describeWorker(worker);
      if (silent > this.heartbeatTimeoutMs) {
        this.workerLost(worker, `${name} lost: no heartbeat for ${silent} ms (timeout ${this.heartbeatTimeoutMs} ms)`);
      } else if (worker.disconnectedAt !== undefined && now - worker.disconnectedAt > grace) {
        this.workerLost(worker, `${name} lost: no heartbeat for ${silent} ms after its connection closed (timeout ${this.heartbeatTimeoutMs} ms)`);
      } else if (worker.disconnectedAt !== undefined && workerProcessGone(worker)) {
        this.workerLost(worker, `${name} lost: its connection closed and its process is gone`);
      }
    }
  }

  /** Drops a worker and recovers the tasks of every job that had tasks on it. */
  workerLost(worker: WorkerRecord, reason: string): void {
    this.workers.delete(worker.id);
    this.lostWorkers.add(worker.id);
    const affected = this.scheduler.removeWorker(worker.id);
    this.logger.error({ workerId: worker.id, workerPid: worker.pid, jobs: [...affected.keys()] }, reason);
    for (const [jobId, taskIds] of affected) this.jobs.get(jobId)?.jobMaster?.taskFailed(taskIds, reason);
  }

  /** Plans, places and deploys a job bundle. Throws ClusterError with an HTTP status on refusal. */
  async submit(bundle: string, requestedName?: string, fromSavepoint?: string, args: readonly string[] = []): Promise<ClusterJob> {
    const restore = fromSavepoint === undefined ? undefined : await readSavepointFolder(fromSavepoint, this.logger);
    const id = randomUUID();
    const dir = join(this.dataDir, 'jobs', id);
    const path = writeBundle(dir, bundle);
    let captured;
    try {
      captured = await this.planner.plan(path, args);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      const refusal = planningError(e);
      this.logger.warn({ code: refusal.code, status: refusal.status }, `job submission refused: ${refusal.message}`);
      throw new ClusterError(refusal.code, refusal.message, refusal.status);
    }
    const name = requestedName ?? captured.name;
    let plan;
    try {
      plan = createPlan(captured.graph, name);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new ClusterError((e as MobiusError).code ?? 'INVALID_JOB', e instanceof Error ? e.message : String(e), 400);
    }
    const job = new ClusterJob(id, name, plan, bundle, captured.graph);
    job.args = args;
    this.masters!.storeFor(job, plan);
    let master;
    try {
      master = this.masters!.create(job, restore);
    } catch (e) {
      // The job's options are checked as a whole here (e.g. the autoscaler's band inside its target).
      rmSync(dir, { recursive: true, force: true });
      if (e instanceof ConfigError) throw new ClusterError(e.code, e.message, 400);
      throw e;
    }
    try {
      master.place();
    } catch (e) {
      if (e instanceof InsufficientSlotsError) throw new ClusterError(e.code, e.message, 409);
      throw e;
    }
    this.jobs.set(id, job);
    this.logger.info({ jobId: id, job: name, tasks: master.tasks.size, graphHash: plan.graphHash }, 'job submitted');
    void master.deploy();
    return job;
  }

  cancel(jobId: string): ClusterJob {
    const job = this.job(jobId);
    if (job.terminal) return job;
    job.jobMaster?.cancel();
    return job;
  }

  /** A collect sink task's batch, from a registered worker, for the job's client (`GET /jobs/:id/results`). */
  private acceptCollected(from: string, message: Extract<ControlMessage, { type: 'collect' }>): ControlMessage | Promise<ControlMessage> {
    const job = this.jobs.get(message.jobId);
    if (!this.workers.has(from) || job === undefined) return { type: 'error', code: 'UNKNOWN_JOB', message: `no job '${message.jobId}' takes collected records from ${from}` };
    return this.collected.accept(message, getConfig(job.plan.config, CoreOptions.COLLECT_BUFFER_MAX_BYTES));
  }

  job(jobId: string): ClusterJob {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new ClusterError('UNKNOWN_JOB', `no job with id '${jobId}'`, 404);
    return job;
  }

  /** Round trip of a `ping` to a worker's main thread (`POST /workers/:id/ping`). */
  async pingWorker(workerId: string): Promise<{ workerId: string; roundTripMs: number }> {
    if (!this.workers.has(workerId)) throw new ClusterError('UNKNOWN_WORKER', `no worker with id '${workerId}'`, 404);
    const started = performance.now();
    const reply = await this.control!.request(workerId, { type: 'ping' }, PING_TIMEOUT_MS);
    if (reply.type !== 'ok') throw new ClusterError('WORKER_ERROR', `worker ${workerId} answered a ping with '${reply.type}'`, 502);
    return { workerId, roundTripMs: performance.now() - started };
  }

  workerSummaries(): Record<string, unknown>[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id,
      address: w.endpoint,
      endpoint: w.endpoint,
      slots: w.slots,
      pid: w.pid,
      ...(w.slotEndpoints === undefined ? {} : { slotEndpoints: w.slotEndpoints }),
      lastHeartbeat: w.lastHeartbeat,
      running: w.running,
      tasks: [...this.jobs.values()]
        .filter((j) => !j.terminal)
        .flatMap((j) => [...j.tasks.values()].filter((t) => t.workerId === w.id).map((t) => ({ jobId: j.id, taskId: t.taskId, state: t.state }))),
    }));
  }

  async stop(): Promise<void> {
    if (this.monitor !== undefined) clearInterval(this.monitor);
    this.planner.close();
    for (const job of this.jobs.values()) if (!job.terminal) job.jobMaster?.pushCancel();
    await this.server?.close();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
