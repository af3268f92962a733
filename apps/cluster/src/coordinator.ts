import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { InsufficientSlotsError, MobiusError, type ControlMessage, type Logger, type TaskMetrics } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { CheckpointCoordinator, FsCheckpointStore, compactCheckpoint, snapshotsToRestore } from '@mobius/failover';
import { decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';
import { compactorFor, retainedCheckpoints } from 'mobius';
import { SlotScheduler } from '@mobius/scheduler';
import { ZmqControlServer } from '@mobius/transport-zeromq';
import { ClusterJob } from './cluster-job.js';
import { captureBundle, writeBundle } from './job-bundle.js';
import { isLoopback, tokenMatches } from './token.js';

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
  readonly logger: Logger;
}

/** A registered worker, as the coordinator keeps it. */
export interface WorkerRecord {
  readonly id: string;
  readonly endpoint: string;
  readonly slots: number;
  readonly pid: number;
  lastHeartbeat: number;
  readonly registeredAt: number;
  /** When the control connection was seen closing (ZeroMQ's socket monitor); cleared by a heartbeat. */
  disconnectedAt?: number;
}

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
  private control: ZmqControlServer | undefined;
  private monitor: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: CoordinatorOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.token = options.token;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 2000;
    this.logger = options.logger;
    if (!isLoopback(this.host) && this.token === undefined) {
      throw new ClusterError('TOKEN_REQUIRED', `a token is required to listen on ${this.host} (a non-loopback address): pass --token, MOBIUS_TOKEN or --token-file`, 500);
    }
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? join(tmpdir(), `mobius-coordinator-${process.pid}-${randomUUID().slice(0, 8)}`);
    mkdirSync(join(this.dataDir, 'jobs'), { recursive: true });
  }

  get controlEndpoint(): string {
    return this.control!.endpoint;
  }

  async start(): Promise<void> {
    this.control = new ZmqControlServer({ endpoint: `tcp://${this.host}:${this.options.port ?? 6123}`, logger: this.logger });
    this.control.onRequest((from, message) => this.handleRequest(from, message));
    this.control.onPush((from, message) => this.handlePush(from, message));
    // A closed connection is seen in milliseconds; a worker that then stays silent for half the
    // heartbeat timeout is lost (a live one reconnects and sends a heartbeat well within that).
    this.control.onPeer('disconnected', (peer) => {
      const worker = this.workers.get(peer);
      if (worker !== undefined) worker.disconnectedAt = Date.now();
    });
    await this.control.start();
    const every = Math.max(50, Math.min(250, Math.floor(this.heartbeatTimeoutMs / 4)));
    this.monitor = setInterval(() => this.checkHeartbeats(), every);
    this.logger.info({ control: this.controlEndpoint, dataDir: this.dataDir }, 'coordinator started');
  }

  private handleRequest(from: string, message: ControlMessage): ControlMessage {
    if (message.type !== 'register') return { type: 'error', code: 'UNKNOWN_REQUEST', message: `unexpected request '${message.type}'` };
    if (!tokenMatches(this.token, message.token)) {
      this.logger.warn({ workerId: message.workerId, from }, 'worker registration refused: bad or missing token');
      return { type: 'error', code: 'UNAUTHORIZED', message: 'registration refused: bad or missing token' };
    }
    if (!Number.isInteger(message.slots) || message.slots < 1) {
      return { type: 'error', code: 'INVALID_WORKER', message: `worker ${message.workerId}: slots must be a positive integer` };
    }
    const record: WorkerRecord = { id: from, endpoint: message.endpoint, slots: message.slots, pid: message.pid, lastHeartbeat: Date.now(), registeredAt: Date.now() };
    this.workers.set(from, record);
    this.scheduler.registerWorker({ id: from, endpoint: message.endpoint, slots: message.slots, pid: message.pid });
    this.logger.info({ workerId: from, endpoint: message.endpoint, slots: message.slots, workerPid: message.pid }, 'worker registered');
    return { type: 'registered', workerId: from, heartbeatMs: Math.max(50, Math.floor(this.heartbeatTimeoutMs / 4)) };
  }

  private handlePush(from: string, message: ControlMessage): void {
    const worker = this.workers.get(from);
    if (message.type === 'heartbeat') {
      if (worker === undefined) return; // a lost worker must register again
      worker.lastHeartbeat = Date.now();
      worker.disconnectedAt = undefined;
      for (const m of message.tasks) this.updateMetrics(m);
      return;
    }
    if (message.type === 'ack-checkpoint') {
      this.jobs.get(message.jobId)?.checkpoints?.acknowledge(message.taskId, message.checkpointId, message.handle);
      return;
    }
    if (message.type === 'decline-checkpoint') {
      this.jobs.get(message.jobId)?.checkpoints?.decline(message.taskId, message.checkpointId, message.reason);
      return;
    }
    if (message.type === 'task-state') {
      const job = this.jobs.get(message.jobId);
      const task = job?.tasks.get(message.taskId);
      if (job === undefined || task === undefined || task.attempt !== message.attempt) return;
      task.state = message.state;
      if (message.metrics !== undefined) task.metrics = message.metrics;
      if (message.error !== undefined) task.error = message.error;
      this.logger.info({ jobId: job.id, taskId: task.taskId, workerId: from, state: message.state }, 'task state');
      // While the job is being cancelled, a task that fails is part of the cancel.
      if (message.state === 'FAILED' && !this.cancelling.has(job.id)) this.failJob(job, message.error ?? `task ${task.taskId} failed`);
      else this.maybeFinish(job);
    }
  }

  private updateMetrics(m: TaskMetrics): void {
    const slash = m.taskId.indexOf('/');
    const job = this.jobs.get(m.taskId.slice(0, slash));
    const task = job?.tasks.get(m.taskId.slice(slash + 1));
    if (task !== undefined && task.attempt === m.attempt) task.metrics = { ...m, taskId: task.taskId };
  }

  private maybeFinish(job: ClusterJob): void {
    if (!job.deployed || job.terminal) return;
    const states = [...job.tasks.values()].map((t) => t.state);
    if (states.every((s) => s === 'FINISHED')) this.endJob(job, 'FINISHED');
    else if (states.every((s) => s === 'FINISHED' || s === 'CANCELED' || s === 'FAILED') && job.state === 'RUNNING' && this.cancelling.has(job.id)) this.endJob(job, 'CANCELED');
  }

  private readonly cancelling = new Set<string>();

  private endJob(job: ClusterJob, state: 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): void {
    if (!job.settle(state, error)) return;
    void job.checkpoints?.stop();
    this.cancelling.delete(job.id);
    try {
      this.scheduler.release(job.id);
    } catch {
      // already released
    }
    const log = state === 'FAILED' ? this.logger.error.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ jobId: job.id, job: job.name, state, error }, `job ${state.toLowerCase()}`);
  }

  private failJob(job: ClusterJob, error: string, restartable = true): void {
    if (job.terminal || job.restarting) return;
    const interval = job.plan.config['checkpoint.interval.ms'] as number;
    if (restartable && interval > 0 && !this.cancelling.has(job.id) && job.restarts < (job.plan.config['restart.max-attempts'] as number)) {
      void this.restartJob(job, error);
      return;
    }
    this.pushCancel(job);
    this.endJob(job, 'FAILED', error);
  }

  /**
   * Global restore: cancel what is left of the job, place every task again on the live workers,
   * and deploy them restoring the latest valid complete checkpoint (ids continue).
   */
  private async restartJob(job: ClusterJob, reason: string): Promise<void> {
    job.restarting = true;
    job.restarts++;
    this.logger.warn({ jobId: job.id, job: job.name, reason, restart: job.restarts }, 'restarting the job from its latest checkpoint');
    job.checkpoints?.abort(reason);
    this.pushCancel(job);
    if (job.checkpoints !== undefined) {
      job.nextCheckpointId += job.checkpoints.stats().triggered;
      await job.checkpoints.stop();
    }
    await new Promise((r) => setTimeout(r, job.plan.config['restart.delay.ms'] as number));
    try {
      this.scheduler.release(job.id);
    } catch {
      // nothing placed
    }
    let placements;
    try {
      placements = this.scheduler.place(job.id, job.plan);
    } catch (e) {
      job.restarting = false;
      this.endJob(job, 'FAILED', `${reason}; the restart failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    job.attempt++;
    job.tasks.clear();
    for (const p of placements) job.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt: job.attempt, state: 'DEPLOYING' });
    const latest = await job.store!.latestValid(job.id);
    if (latest !== undefined) {
      try {
        const { handles } = await snapshotsToRestore(job.store!, job.id, latest, decodeTaskSnapshot);
        job.restore = { dir: job.checkpointDir, handles };
      } catch (e) {
        job.restarting = false;
        this.endJob(job, 'FAILED', `${reason}; the restore failed: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    this.logger.warn({ jobId: job.id, checkpointId: latest?.checkpointId ?? null, attempt: job.attempt }, latest === undefined ? 'no complete checkpoint: restarting from the start' : 'restoring checkpoint');
    job.checkpoints = this.createCheckpoints(job);
    job.deployed = false;
    job.restarting = false;
    void this.deploy(job);
  }

  private createCheckpoints(job: ClusterJob): CheckpointCoordinator {
    const config = job.plan.config;
    const workersOf = (): Set<string> => new Set([...job.tasks.values()].map((t) => t.workerId));
    return new CheckpointCoordinator({
      jobId: job.id,
      tasks: job.plan.tasks.map((t) => t.id),
      store: job.store!,
      intervalMs: config['checkpoint.interval.ms'] as number,
      timeoutMs: config['checkpoint.timeout.ms'] as number,
      retained: retainedCheckpoints(job.plan),
      firstCheckpointId: job.nextCheckpointId,
      logger: this.logger,
      trigger: (checkpointId, timestamp, savepoint) => {
        for (const w of workersOf()) if (this.workers.has(w)) this.control!.push(w, { type: 'trigger-checkpoint', jobId: job.id, checkpointId, timestamp, savepoint });
      },
      notifyComplete: (checkpointId) => {
        for (const w of workersOf()) if (this.workers.has(w)) this.control!.push(w, { type: 'checkpoint-complete', jobId: job.id, checkpointId });
        this.compactInBackground(job, checkpointId);
      },
      notifyAborted: (checkpointId) => {
        for (const w of workersOf()) if (this.workers.has(w)) this.control!.push(w, { type: 'checkpoint-aborted', jobId: job.id, checkpointId });
      },
    });
  }

  /** Merges the checkpoint's incremental state chains into full snapshots, in the background. */
  private compactInBackground(job: ClusterJob, checkpointId: number): void {
    const compact = compactorFor(job.plan);
    const store = job.store;
    if (compact === undefined || store === undefined) return;
    job.compaction = job.compaction
      .then(async () => {
        const metadata = (await store.list(job.id)).find((m) => m.checkpointId === checkpointId);
        if (metadata === undefined) return; // already past retention
        const rewritten = await compactCheckpoint(store, job.id, metadata, { decode: decodeTaskSnapshot, encode: encodeTaskSnapshot }, compact);
        if (rewritten > 0) this.logger.debug({ jobId: job.id, checkpointId, tasks: rewritten }, 'checkpoint compacted');
      })
      .catch((e: unknown) => this.logger.warn({ jobId: job.id, checkpointId, err: e }, 'compacting a checkpoint failed; restores read its chain instead'));
  }

  /** Takes a savepoint of a running job; resolves with its id and folder (for --from-savepoint). */
  async savepoint(jobId: string): Promise<{ checkpointId: number; path: string }> {
    const job = this.job(jobId);
    if (job.state !== 'RUNNING' || job.checkpoints === undefined) throw new ClusterError('JOB_NOT_RUNNING', `job ${jobId} is ${job.state}: a savepoint needs a running job`, 409);
    const metadata = await job.checkpoints.triggerSavepoint();
    return { checkpointId: metadata.checkpointId, path: job.store!.checkpointDirectory(job.id, metadata.checkpointId) };
  }

  /** Reads a savepoint folder (`<dir>/<job>/chk-<id>`) into restore handles. */
  private async savepointAt(path: string): Promise<{ dir: string; handles: readonly string[] }> {
    const folder = resolve(path);
    const match = /^chk-(\d+)$/.exec(basename(folder));
    if (match === null || !existsSync(join(folder, '_metadata.json'))) {
      throw new ClusterError('INVALID_SAVEPOINT', `${path} is not a savepoint folder (expected <checkpoint dir>/<job>/chk-<id> with a _metadata.json)`, 400);
    }
    const dir = dirname(dirname(folder));
    const store = new FsCheckpointStore({ directory: dir, logger: this.logger });
    const all = await store.list(basename(dirname(folder)));
    const metadata = all.find((m) => m.checkpointId === Number(match[1]));
    if (metadata === undefined) throw new ClusterError('INVALID_SAVEPOINT', `${path}: its metadata is missing or corrupt`, 400);
    // A savepoint is self-contained (full snapshots): its own task files are all it needs.
    return { dir, handles: Object.values(metadata.tasks) };
  }

  private pushCancel(job: ClusterJob): void {
    const workers = new Set([...job.tasks.values()].map((t) => t.workerId));
    for (const w of workers) if (this.workers.has(w)) this.control!.push(w, { type: 'cancel', jobId: job.id });
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    const grace = Math.floor(this.heartbeatTimeoutMs / 2);
    for (const worker of [...this.workers.values()]) {
      const silent = now - worker.lastHeartbeat;
      const name = `worker ${worker.id} (pid ${worker.pid}, ${worker.endpoint})`;
      if (silent > this.heartbeatTimeoutMs) {
        this.workerLost(worker, `${name} lost: no heartbeat for ${silent} ms (timeout ${this.heartbeatTimeoutMs} ms)`);
      } else if (worker.disconnectedAt !== undefined && now - worker.disconnectedAt > grace) {
        this.workerLost(worker, `${name} lost: no heartbeat for ${silent} ms after its connection closed (timeout ${this.heartbeatTimeoutMs} ms)`);
      }
    }
  }

  /** Drops a worker and fails the jobs that had tasks on it (recovery comes with failover). */
  workerLost(worker: WorkerRecord, reason: string): void {
    this.workers.delete(worker.id);
    const affected = this.scheduler.removeWorker(worker.id);
    this.logger.error({ workerId: worker.id, workerPid: worker.pid, jobs: [...affected.keys()] }, reason);
    for (const jobId of affected.keys()) {
      const job = this.jobs.get(jobId);
      if (job !== undefined) this.failJob(job, reason);
    }
  }

  /** Plans, places and deploys a job bundle. Throws ClusterError with an HTTP status on refusal. */
  async submit(bundle: string, requestedName?: string, fromSavepoint?: string, args: readonly string[] = []): Promise<ClusterJob> {
    const restore = fromSavepoint === undefined ? undefined : await this.savepointAt(fromSavepoint);
    const id = randomUUID();
    const dir = join(this.dataDir, 'jobs', id);
    const path = writeBundle(dir, bundle);
    let captured;
    try {
      captured = await captureBundle(path, args);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new ClusterError('INVALID_JOB', `the job bundle could not be planned: ${e instanceof Error ? e.message : String(e)}`, 400);
    }
    const name = requestedName ?? captured.name;
    let plan;
    try {
      plan = createPlan(captured.graph, name);
    } catch (e) {
      throw new ClusterError((e as MobiusError).code ?? 'INVALID_JOB', e instanceof Error ? e.message : String(e), 400);
    }
    let placements;
    try {
      placements = this.scheduler.place(id, plan);
    } catch (e) {
      if (e instanceof InsufficientSlotsError) throw new ClusterError(e.code, e.message, 409);
      throw e;
    }
    const job = new ClusterJob(id, name, plan, bundle);
    job.checkpointDir = (plan.config['checkpoint.dir'] as string) || join(this.dataDir, 'checkpoints');
    job.store = new FsCheckpointStore({ directory: job.checkpointDir, logger: this.logger });
    job.restore = restore;
    job.args = args;
    job.checkpoints = this.createCheckpoints(job);
    for (const p of placements) job.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt: 0, state: 'DEPLOYING' });
    this.jobs.set(id, job);
    this.logger.info({ jobId: id, job: name, tasks: placements.length, graphHash: plan.graphHash }, 'job submitted');
    void this.deploy(job);
    return job;
  }

  private async deploy(job: ClusterJob): Promise<void> {
    const endpoints: Record<string, string> = {};
    for (const t of job.tasks.values()) endpoints[t.taskId] = this.workers.get(t.workerId)!.endpoint;
    const byWorker = new Map<string, { taskId: string; attempt: number }[]>();
    for (const t of job.tasks.values()) {
      const list = byWorker.get(t.workerId) ?? [];
      list.push({ taskId: t.taskId, attempt: t.attempt });
      byWorker.set(t.workerId, list);
    }
    job.state = 'RUNNING';
    job.startTime ??= Date.now();
    const replies = await Promise.all(
      [...byWorker].map(async ([workerId, tasks]) => {
        try {
          const reply = await this.control!.request(
            workerId,
            {
              type: 'deploy',
              jobId: job.id,
              name: job.name,
              bundle: job.bundle,
              args: job.args,
              graphHash: job.plan.graphHash,
              endpoints,
              tasks,
              checkpointDir: job.checkpointDir,
              restore: job.restore,
            },
            30_000,
          );
          return reply.type === 'error' ? `worker ${workerId} refused the job: ${reply.message}` : undefined;
        } catch (e) {
          return `deploying to worker ${workerId} failed: ${e instanceof Error ? e.message : String(e)}`;
        }
      }),
    );
    const refusal = replies.find((r) => r !== undefined);
    if (refusal !== undefined) {
      this.failJob(job, refusal, !refusal.includes('refused the job'));
      return;
    }
    job.deployed = true;
    job.checkpoints?.start();
    this.maybeFinish(job);
  }

  cancel(jobId: string): ClusterJob {
    const job = this.job(jobId);
    if (job.terminal) return job;
    this.cancelling.add(job.id);
    this.pushCancel(job);
    // Tasks report CANCELED; a job whose tasks are all gone (e.g. lost workers) ends now.
    if ([...job.tasks.values()].every((t) => !this.workers.has(t.workerId))) this.endJob(job, 'CANCELED');
    return job;
  }

  job(jobId: string): ClusterJob {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new ClusterError('UNKNOWN_JOB', `no job with id '${jobId}'`, 404);
    return job;
  }

  workerSummaries(): Record<string, unknown>[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id,
      address: w.endpoint,
      endpoint: w.endpoint,
      slots: w.slots,
      pid: w.pid,
      lastHeartbeat: w.lastHeartbeat,
      tasks: [...this.jobs.values()]
        .filter((j) => !j.terminal)
        .flatMap((j) => [...j.tasks.values()].filter((t) => t.workerId === w.id).map((t) => ({ jobId: j.id, taskId: t.taskId, state: t.state }))),
    }));
  }

  async stop(): Promise<void> {
    if (this.monitor !== undefined) clearInterval(this.monitor);
    for (const job of this.jobs.values()) if (!job.terminal) this.pushCancel(job);
    await this.control?.close();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
