import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { InsufficientSlotsError, MobiusError, longestDeterminants, type CheckpointMetadata, type ControlMessage, type Determinant, type Logger, type TaskMetrics } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { CheckpointCoordinator, FsCheckpointStore, compactCheckpoint, planRecovery, snapshotsToRestore, type RecoveryDecision, type RecoveryEventHandle } from '@mobius/failover';
import { decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';
import { stateBackends } from './state-backend.js';
import { SlotScheduler } from '@mobius/scheduler';
import { ZmqControlServer } from '@mobius/transport-zeromq';
import { ClusterJob } from './cluster-job.js';
import { captureBundle, writeBundle } from '@mobius/job-loader';
import { isLoopback, tokenMatches } from './token.js';
import { workerProcessGone } from './worker-liveness.js';

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
  /** The task attempts the worker's last heartbeat reported running. */
  running: readonly RunningAttempt[];
}

interface RunningAttempt {
  readonly jobId: string;
  readonly taskId: string;
  readonly attempt: number;
}

/** How log lines and errors name a worker. */
function describeWorker(worker: WorkerRecord): string {
  return `worker ${worker.id} (pid ${worker.pid}, ${worker.endpoint})`;
}

/** A heartbeat names each task `jobId/taskId`. */
function runningAttempt(m: TaskMetrics): RunningAttempt {
  const slash = m.taskId.indexOf('/');
  return { jobId: m.taskId.slice(0, slash), taskId: m.taskId.slice(slash + 1), attempt: m.attempt };
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
    await this.resumeJobs();
    this.control = new ZmqControlServer({ endpoint: `tcp://${this.host}:${this.options.port ?? 6123}`, logger: this.logger });
    this.control.onRequest((from, message) => this.handleRequest(from, message));
    this.control.onPush((from, message) => this.handlePush(from, message));
    // A closed connection is seen in milliseconds; a worker that then stays silent for half the
    // heartbeat timeout is lost (a live one reconnects and sends a heartbeat well within that).
    this.control.onPeer('disconnected', (peer) => {
      const worker = this.workers.get(peer);
      if (worker === undefined) return;
      worker.disconnectedAt = Date.now();
      // A worker on this machine whose process is gone is lost now, not after the grace.
      if (workerProcessGone(worker)) this.workerLost(worker, `${describeWorker(worker)} lost: its connection closed and its process is gone`);
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
    const reported = message.tasks ?? [];
    const record: WorkerRecord = {
      id: from,
      endpoint: message.endpoint,
      slots: message.slots,
      pid: message.pid,
      lastHeartbeat: Date.now(),
      registeredAt: Date.now(),
      running: reported.filter((r) => r.state === 'RUNNING').map((r) => ({ jobId: r.jobId, taskId: r.taskId, attempt: r.attempt })),
    };
    this.workers.set(from, record);
    this.scheduler.registerWorker({ id: from, endpoint: message.endpoint, slots: message.slots, pid: message.pid });
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
    for (const wake of this.slotWaiters.splice(0)) wake();
    for (const job of this.jobs.values()) if (job.resuming !== undefined) this.maybeResume(job, false);
    this.logger.info({ workerId: from, endpoint: message.endpoint, slots: message.slots, workerPid: message.pid }, 'worker registered');
    return { type: 'registered', workerId: from, heartbeatMs: Math.max(50, Math.floor(this.heartbeatTimeoutMs / 4)) };
  }

  private handlePush(from: string, message: ControlMessage): void {
    const worker = this.workers.get(from);
    if (message.type === 'heartbeat') {
      if (worker === undefined) {
        // Unknown here (this coordinator restarted, or the worker was declared lost): it must
        // register again, telling which tasks it runs.
        const asked = this.reregisterAsked.get(from) ?? 0;
        if (Date.now() - asked > 1000) {
          this.reregisterAsked.set(from, Date.now());
          this.control!.push(from, { type: 'reregister' });
        }
        return;
      }
      worker.lastHeartbeat = Date.now();
      worker.disconnectedAt = undefined;
      worker.running = message.tasks.map(runningAttempt);
      for (let i = 0; i < message.tasks.length; i++) this.updateMetrics(worker.running[i], message.tasks[i]);
      return;
    }
    if (message.type === 'ack-checkpoint') {
      if (this.fromCurrentWorker(from, message.jobId, message.taskId)) this.jobs.get(message.jobId)?.checkpoints?.acknowledge(message.taskId, message.checkpointId, message.handle);
      return;
    }
    if (message.type === 'decline-checkpoint') {
      if (this.fromCurrentWorker(from, message.jobId, message.taskId)) this.jobs.get(message.jobId)?.checkpoints?.decline(message.taskId, message.checkpointId, message.reason);
      return;
    }
    if (message.type === 'task-state') {
      const job = this.jobs.get(message.jobId);
      const task = job?.tasks.get(message.taskId);
      if (job === undefined || task === undefined || task.attempt !== message.attempt) return;
      task.state = message.state;
      if (message.metrics !== undefined) task.metrics = message.metrics;
      if (message.error !== undefined) task.error = message.error;
      this.logger.info({ jobId: job.id, taskId: task.taskId, workerId: from, state: message.state, attempt: message.attempt }, 'task state');
      if (message.state !== 'DEPLOYING') this.recovered(job, task.taskId, message.attempt);
      // While the job is being cancelled, a task that fails is part of the cancel.
      if (message.state === 'FAILED' && !this.cancelling.has(job.id)) this.taskFailed(job, [task.taskId], message.error ?? `task ${task.taskId} failed`);
      else this.maybeFinish(job);
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

  /** Recoveries waiting for free slots, woken when a worker registers. */
  private readonly slotWaiters: (() => void)[] = [];

  /**
   * Waits until the scheduler has `needed` free slots: a lost worker's replacement (started by a
   * supervisor) registers within moments, and a recovery should run on it rather than fail or
   * widen. Gives up after three heartbeat timeouts (as a restarted coordinator waits for its
   * workers); true when the slots are there.
   */
  private async waitForFreeSlots(job: ClusterJob, needed: number): Promise<boolean> {
    if (this.scheduler.freeSlots() >= needed) return true;
    const deadline = Date.now() + 3 * this.heartbeatTimeoutMs;
    this.logger.warn({ jobId: job.id, needed, free: this.scheduler.freeSlots(), waitMs: deadline - Date.now() }, 'recovery: waiting for workers with free slots');
    while (this.scheduler.freeSlots() < needed && !job.terminal) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.slotWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.scheduler.freeSlots() >= needed;
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

  private maybeFinish(job: ClusterJob): void {
    if (!job.deployed || job.terminal) return;
    const states = [...job.tasks.values()].map((t) => t.state);
    if (states.every((s) => s === 'FINISHED')) this.endJob(job, 'FINISHED');
    else if (states.every((s) => s === 'FINISHED' || s === 'CANCELED' || s === 'FAILED') && job.state === 'RUNNING' && this.cancelling.has(job.id)) this.endJob(job, 'CANCELED');
  }

  private readonly cancelling = new Set<string>();

  private endJob(job: ClusterJob, state: 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): void {
    if (!job.settle(state, error)) return;
    this.persist(job);
    void job.checkpoints?.stop();
    // Workers keep ended tasks for replay until the job ends: let them go.
    if (state === 'FINISHED') this.pushCancel(job);
    if (job.pendingRecovery !== undefined) {
      job.pendingRecovery.handle.fail(`the job ended ${state} during the recovery`);
      job.pendingRecovery = undefined;
    }
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
  private async restartJob(job: ClusterJob, reason: string, count = true): Promise<void> {
    job.restarting = true;
    if (count) job.restarts++;
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
    await this.waitForFreeSlots(job, job.plan.tasks.length);
    if (job.terminal) {
      job.restarting = false;
      return;
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
    this.persist(job);
    job.checkpoints = this.createCheckpoints(job);
    job.deployed = false;
    job.restarting = false;
    void this.deploy(job, job.nextCheckpointId - 1);
  }

  /**
   * Tasks died (their worker was lost) or failed: recover them, one recovery after another.
   * Without checkpoints, or past `restart.max-attempts`, the job fails.
   */
  private taskFailed(job: ClusterJob, taskIds: readonly string[], reason: string): void {
    if (job.terminal || this.cancelling.has(job.id)) return;
    const interval = job.plan.config['checkpoint.interval.ms'] as number;
    if (interval <= 0 || !job.deployed) {
      this.failJob(job, reason);
      return;
    }
    const detected = Date.now();
    job.recovery = job.recovery.then(() => this.recover(job, taskIds, reason, detected)).catch((e: unknown) => {
      this.logger.error({ jobId: job.id, err: e }, 'recovery failed');
      this.pushCancel(job);
      this.endJob(job, 'FAILED', `${reason}; the recovery failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /**
   * Single-task failover: roll back only the failed tasks (widened when a replay buffer cannot
   * cover the gap or a task died with every holder of its determinants), deploy new attempts
   * of them restoring the latest checkpoint, have their neighbours re-open channels (upstream
   * tasks replay, downstream tasks de-duplicate), and hand each its determinant log back.
   */
  private async recover(job: ClusterJob, failedIds: readonly string[], reason: string, detected: number): Promise<void> {
    if (job.terminal || this.cancelling.has(job.id)) return;
    // A task that failed again since (or already restarted) is not failed any more in this attempt.
    const failed = failedIds.filter((id) => job.tasks.has(id));
    if (failed.length === 0) return;
    if (job.restarts >= (job.plan.config['restart.max-attempts'] as number)) {
      this.pushCancel(job);
      this.endJob(job, 'FAILED', `${reason} (restart.max-attempts ${String(job.plan.config['restart.max-attempts'])} reached)`);
      return;
    }
    // A task failing while an earlier recovery of it has not completed is recovered globally.
    const configured = (job.plan.config['failover.strategy'] as 'single-task' | 'global') ?? 'single-task';
    const again = job.pendingRecovery !== undefined && failed.some((id) => job.pendingRecovery!.waiting.has(id));
    const unsettled = !again && job.settlingSince !== undefined;
    if (job.pendingRecovery !== undefined) {
      job.pendingRecovery.handle.fail(`${reason} before the recovery completed`);
      job.pendingRecovery = undefined;
    }
    job.checkpoints?.abort(reason);
    if (job.checkpoints !== undefined) {
      job.nextCheckpointId += job.checkpoints.stats().triggered;
      await job.checkpoints.stop();
    }
    const live = new Set([...job.tasks.values()].filter((t) => !failed.includes(t.taskId) && this.workers.has(t.workerId)).map((t) => t.workerId));
    let decision: RecoveryDecision;
    if (configured === 'global' || again || unsettled) {
      decision = planRecovery({ plan: job.plan, failed, configured: 'global', unreplayable: new Set() });
      if (again) decision = { ...decision, reason: `a task failed again while it was being recovered (${failed.join(', ')})` };
      else if (unsettled && configured !== 'global') {
        decision = { ...decision, reason: `${failed.join(', ')} failed ${Date.now() - job.settlingSince!} ms after an earlier recovery, before a checkpoint completed after it` };
      }
    } else {
      const unreplayable = new Set<string>();
      await Promise.all(
        [...live].map(async (w) => {
          const reply = await this.control!.request(w, { type: 'get-replay-status', jobId: job.id }, 10_000).catch(() => undefined);
          if (reply?.type === 'replay-status') for (const c of reply.unreplayable) unreplayable.add(c);
        }),
      );
      decision = planRecovery({ plan: job.plan, failed, configured: 'single-task', unreplayable });
    }
    const latest = await job.store!.latestValid(job.id);
    this.logger.warn(
      { jobId: job.id, strategy: decision.strategy, tasks: decision.tasks, failed, why: decision.reason, checkpointId: latest?.checkpointId ?? null },
      `failover: ${decision.strategy} recovery of ${decision.tasks.length} task(s): ${decision.reason}`,
    );
    const handle = job.events.begin({ time: detected, strategy: decision.strategy, tasks: decision.tasks, reason: `${reason}; ${decision.reason}`, checkpointId: latest?.checkpointId ?? null, failed });
    job.restarts++;
    if (decision.strategy === 'global') {
      await this.restartJob(job, reason, false);
      job.pendingRecovery = { handle, waiting: new Map([...job.tasks.values()].map((t) => [t.taskId, t.attempt])) };
      return;
    }
    try {
      await this.rollBack(job, decision, failed, latest, handle);
    } catch (e) {
      // A deployment went wrong (e.g. the chosen worker died too): fall back to a global restore.
      const why = `the ${decision.strategy} recovery failed (${e instanceof Error ? e.message : String(e)}): restoring globally`;
      this.logger.warn({ jobId: job.id, err: e }, why);
      (job.pendingRecovery as ClusterJob['pendingRecovery'])?.handle.fail(why);
      job.pendingRecovery = undefined;
      if (job.checkpoints !== undefined) {
        job.nextCheckpointId += job.checkpoints.stats().triggered;
        await job.checkpoints.stop();
      }
      const all = job.plan.tasks.map((t) => t.id);
      const globalHandle = job.events.begin({ time: Date.now(), strategy: 'global', tasks: all, reason: why, checkpointId: latest?.checkpointId ?? null, failed });
      await this.restartJob(job, why, false);
      job.pendingRecovery = { handle: globalHandle, waiting: new Map([...job.tasks.values()].map((t) => [t.taskId, t.attempt])) };
    }
  }

  /** The single-task (or region) part of a recovery: new attempts of the rolled-back tasks, rewired neighbours. */
  private async rollBack(job: ClusterJob, decision: RecoveryDecision, failed: readonly string[], latest: CheckpointMetadata | undefined, handle: RecoveryEventHandle): Promise<void> {
    const recoveryHandle = handle;
    const rollback = new Set(decision.tasks);
    // Live tasks widened into the rollback stop first.
    const liveRolled = [...job.tasks.values()].filter((t) => rollback.has(t.taskId) && !failed.includes(t.taskId) && this.workers.has(t.workerId));
    for (const w of new Set(liveRolled.map((t) => t.workerId))) {
      const mine = liveRolled.filter((t) => t.workerId === w);
      this.control!.push(w, { type: 'cancel', jobId: job.id, tasks: mine.map((t) => t.taskId), before: Object.fromEntries(mine.map((t) => [t.taskId, t.attempt + 1])) });
    }
    // Determinants of each rolled-back task with outputs, from a live downstream task (the longest copy).
    const determinants = new Map<string, readonly Determinant[]>();
    await Promise.all(
      decision.tasks.map(async (taskId) => {
        const holders = new Set(job.plan.channels.filter((c) => c.sourceTask === taskId && !rollback.has(c.targetTask)).map((c) => job.tasks.get(c.targetTask)!.workerId));
        const copies: (readonly Determinant[])[] = [];
        for (const w of holders) {
          if (!this.workers.has(w)) continue;
          const reply = await this.control!.request(w, { type: 'get-determinants', jobId: job.id, taskId }, 10_000).catch(() => undefined);
          if (reply?.type === 'determinants') copies.push(reply.entries);
        }
        determinants.set(taskId, longestDeterminants(copies));
      }),
    );
    // New attempts, on live workers with a free slot (a killed worker's replacement may still be starting).
    const homeless = decision.tasks.filter((id) => !this.workers.has(job.tasks.get(id)!.workerId)).length;
    await this.waitForFreeSlots(job, homeless);
    if (job.terminal) throw new Error('the job ended during the recovery');
    job.attempt++;
    const dead = failed.map((id) => job.tasks.get(id)!.workerId);
    for (const taskId of decision.tasks) {
      const placement = this.scheduler.replace(job.id, taskId, dead);
      const task = job.tasks.get(taskId)!;
      task.workerId = placement.workerId;
      task.attempt = job.attempt;
      task.state = 'DEPLOYING';
      task.error = undefined;
      task.metrics = undefined; // the old attempt's counts are not the new one's
    }
    const endpoints: Record<string, string> = {};
    const attempts: Record<string, number> = {};
    for (const t of job.tasks.values()) {
      endpoints[t.taskId] = this.workers.get(t.workerId)?.endpoint ?? '';
      attempts[t.taskId] = t.attempt;
    }
    job.pendingRecovery = { handle: recoveryHandle, waiting: new Map(decision.tasks.map((id) => [id, job.attempt])) };
    const staleCheckpointsThrough = job.nextCheckpointId - 1;
    await Promise.all(
      decision.tasks.map(async (taskId) => {
        const task = job.tasks.get(taskId)!;
        let restore: { dir: string; handles: readonly string[] } | undefined;
        if (latest !== undefined && latest.tasks[taskId] !== undefined) {
          const { handles } = await snapshotsToRestore(job.store!, job.id, { ...latest, tasks: { [taskId]: latest.tasks[taskId] } }, decodeTaskSnapshot);
          restore = { dir: job.checkpointDir, handles };
        } else if (job.restore !== undefined && latest === undefined) {
          restore = job.restore; // no checkpoint since the savepoint the job started from
        }
        const reply = await this.control!.request(
          task.workerId,
          {
            type: 'deploy',
            jobId: job.id,
            name: job.name,
            bundle: job.bundle,
            args: job.args,
            graphHash: job.plan.graphHash,
            endpoints,
            attempts,
            tasks: [{ taskId, attempt: task.attempt, determinants: determinants.get(taskId) }],
            checkpointDir: job.checkpointDir,
            restore,
            staleCheckpointsThrough,
          },
          30_000,
        );
        if (reply.type === 'error') throw new Error(`worker ${task.workerId} refused task ${taskId}: ${reply.message}`);
      }),
    );
    const restarted: Record<string, { attempt: number; endpoint: string }> = {};
    for (const taskId of decision.tasks) restarted[taskId] = { attempt: job.attempt, endpoint: endpoints[taskId] };
    for (const w of new Set([...job.tasks.values()].map((t) => t.workerId))) {
      if (this.workers.has(w)) this.control!.push(w, { type: 'rewire', jobId: job.id, restarted });
    }
    this.persist(job);
    job.settlingSince = Date.now();
    job.checkpoints = this.createCheckpoints(job);
    job.checkpoints.start();
  }

  /** A task of the recovery in progress reported in: the recovery completes when all did. */
  private recovered(job: ClusterJob, taskId: string, attempt: number): void {
    const pending = job.pendingRecovery;
    if (pending === undefined || pending.waiting.get(taskId) !== attempt) return;
    pending.waiting.delete(taskId);
    if (pending.waiting.size > 0) return;
    const event = pending.handle.complete();
    job.pendingRecovery = undefined;
    this.logger.info({ jobId: job.id, strategy: event.strategy, tasks: event.tasks, durationMs: event.durationMs }, 'recovery complete');
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
      retained: stateBackends.retainedCheckpoints(job.plan.config),
      firstCheckpointId: job.nextCheckpointId,
      logger: this.logger,
      trigger: (checkpointId, timestamp, savepoint) => {
        // Checkpoint ids are leased in blocks, durably: a restarted coordinator starts past the lease.
        if (checkpointId >= job.reservedCheckpointId) {
          job.reservedCheckpointId = checkpointId + 100;
          this.persist(job);
        }
        for (const w of workersOf()) if (this.workers.has(w)) this.control!.push(w, { type: 'trigger-checkpoint', jobId: job.id, checkpointId, timestamp, savepoint });
      },
      notifyComplete: (checkpointId) => {
        job.settlingSince = undefined;
        job.lastCompletedCheckpoint = checkpointId;
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
    const compact = stateBackends.compactor(job.plan.config);
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

  private readonly reregisterAsked = new Map<string, number>();

  /**
   * Writes what a restarted coordinator needs to take the job back (atomically): its name,
   * arguments, checkpoint folder, the tasks' workers and attempts, and the checkpoint-id lease.
   * The bundle is already in the same folder.
   */
  persist(job: ClusterJob): void {
    const dir = join(this.dataDir, 'jobs', job.id);
    try {
      mkdirSync(dir, { recursive: true });
      const record = {
        id: job.id,
        name: job.name,
        args: job.args,
        state: job.state,
        submitTime: job.submitTime,
        checkpointDir: job.checkpointDir,
        restore: job.restore ?? null,
        attempt: job.attempt,
        restarts: job.restarts,
        reservedCheckpointId: job.reservedCheckpointId,
        tasks: [...job.tasks.values()].map((t) => ({ taskId: t.taskId, workerId: t.workerId, attempt: t.attempt })),
      };
      writeFileSync(join(dir, 'job.json.tmp'), JSON.stringify(record));
      renameSync(join(dir, 'job.json.tmp'), join(dir, 'job.json'));
    } catch (e) {
      this.logger.error({ jobId: job.id, err: e }, 'persisting the job record failed');
    }
  }

  /**
   * On start with an existing data dir: jobs that were running are taken back. Their tasks
   * keep running on the workers, which register again and say which tasks they run; once all
   * are accounted for the job resumes (checkpoints continue past the lease). Tasks no worker
   * reports within the grace period are recovered like failed tasks.
   */
  private async resumeJobs(): Promise<void> {
    const root = join(this.dataDir, 'jobs');
    for (const id of readdirSync(root)) {
      const file = join(root, id, 'job.json');
      if (!existsSync(file)) continue;
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as {
          name: string;
          args: string[];
          state: string;
          submitTime: number;
          checkpointDir: string;
          restore: { dir: string; handles: string[] } | null;
          attempt: number;
          restarts: number;
          reservedCheckpointId: number;
          tasks: { taskId: string; workerId: string; attempt: number }[];
        };
        if (record.state === 'FINISHED' || record.state === 'CANCELED' || record.state === 'FAILED') continue;
        const bundle = readFileSync(join(root, id, 'job.mjs'), 'utf8');
        const captured = await captureBundle(join(root, id, 'job.mjs'), record.args);
        const plan = createPlan(captured.graph, record.name);
        const job = new ClusterJob(id, record.name, plan, bundle);
        job.args = record.args;
        job.checkpointDir = record.checkpointDir;
        job.store = new FsCheckpointStore({ directory: job.checkpointDir, logger: this.logger });
        job.restore = record.restore ?? undefined;
        job.attempt = record.attempt;
        job.restarts = record.restarts;
        job.reservedCheckpointId = record.reservedCheckpointId;
        job.nextCheckpointId = record.reservedCheckpointId + 1;
        job.state = 'RUNNING';
        job.startTime = Date.now();
        for (const t of record.tasks) job.tasks.set(t.taskId, { taskId: t.taskId, workerId: t.workerId, attempt: t.attempt, state: 'DEPLOYING' });
        job.resuming = { deadline: Date.now() + 3 * this.heartbeatTimeoutMs, reported: new Set() };
        this.jobs.set(id, job);
        this.logger.warn({ jobId: id, job: record.name, tasks: record.tasks.length, nextCheckpointId: job.nextCheckpointId }, 'taking back a running job: waiting for its workers to register again');
      } catch (e) {
        this.logger.error({ jobId: id, err: e }, 'a job of the data dir could not be taken back');
      }
    }
  }

  /** A job being taken back resumes once every task is reported (or, at the deadline, recovers the rest). */
  private maybeResume(job: ClusterJob, deadline: boolean): void {
    const resuming = job.resuming;
    if (resuming === undefined || job.terminal) return;
    const missing = [...job.tasks.keys()].filter((id) => !resuming.reported.has(id));
    if (missing.length > 0 && !deadline) return;
    job.resuming = undefined;
    this.scheduler.adopt(
      job.id,
      job.plan,
      [...job.tasks.values()].map((t) => ({ taskId: t.taskId, workerId: resuming.reported.has(t.taskId) && this.workers.has(t.workerId) ? t.workerId : undefined })),
    );
    job.deployed = true;
    job.checkpoints = this.createCheckpoints(job);
    job.checkpoints.start();
    this.logger.warn({ jobId: job.id, missing }, missing.length === 0 ? 'job taken back: every task is running' : 'job taken back; tasks no worker reported are recovered');
    if (missing.length > 0) this.taskFailed(job, missing, `tasks ${missing.join(', ')} were not reported by any worker after the coordinator restarted`);
    else this.maybeFinish(job);
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
    for (const job of this.jobs.values()) if (job.resuming !== undefined && now > job.resuming.deadline) this.maybeResume(job, true);
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

  /** Drops a worker and fails the jobs that had tasks on it (recovery comes with failover). */
  workerLost(worker: WorkerRecord, reason: string): void {
    this.workers.delete(worker.id);
    this.lostWorkers.add(worker.id);
    const affected = this.scheduler.removeWorker(worker.id);
    this.logger.error({ workerId: worker.id, workerPid: worker.pid, jobs: [...affected.keys()] }, reason);
    for (const [jobId, taskIds] of affected) {
      const job = this.jobs.get(jobId);
      if (job !== undefined) this.taskFailed(job, taskIds, reason);
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
    this.persist(job);
    this.logger.info({ jobId: id, job: name, tasks: placements.length, graphHash: plan.graphHash }, 'job submitted');
    void this.deploy(job);
    return job;
  }

  private async deploy(job: ClusterJob, staleCheckpointsThrough?: number): Promise<void> {
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
              attempts: Object.fromEntries([...job.tasks.values()].map((t) => [t.taskId, t.attempt])),
              checkpointDir: job.checkpointDir,
              restore: job.restore,
              staleCheckpointsThrough,
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
      running: w.running,
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
