import { CheckpointError, silentLogger, type CheckpointMetadata, type CheckpointStore, type Logger } from '@mobius/interface';

/** Options of {@link CheckpointCoordinator}. */
export interface CheckpointCoordinatorOptions {
  readonly jobId: string;
  /** Ids of the tasks that must acknowledge every checkpoint. */
  readonly tasks: readonly string[];
  readonly store: CheckpointStore;
  /** Period of automatic checkpoints, ms; 0 turns them off (savepoints and manual checkpoints still work). */
  readonly intervalMs: number;
  /** A checkpoint not acknowledged by every task within this time is aborted, ms. */
  readonly timeoutMs: number;
  /** Completed checkpoints (not savepoints) kept in the store. Default 2. */
  readonly retained?: number;
  /** Sends the trigger to the source tasks. Called synchronously; a throw aborts the checkpoint. */
  trigger(checkpointId: number, timestamp: number, savepoint: boolean): void;
  /** The checkpoint is complete and durable: sinks commit, replay buffers trim. */
  notifyComplete?(checkpointId: number): void;
  /** The checkpoint was aborted: tasks drop what they prepared for it. */
  notifyAborted?(checkpointId: number, reason: string): void;
  /** The first id to use. Ids are never reused: after a restore, pass one more than the highest id ever used. Default 1. */
  readonly firstCheckpointId?: number;
  readonly logger?: Logger;
}

/** Counters of a {@link CheckpointCoordinator}. */
export interface CheckpointStats {
  readonly triggered: number;
  readonly completed: number;
  readonly aborted: number;
  readonly lastCompletedId: number | undefined;
  /** Trigger to durable completion of the last completed checkpoint, ms. */
  readonly lastDurationMs: number | undefined;
  /** The checkpoint in flight, if any. */
  readonly pendingId: number | undefined;
}

interface Waiter {
  resolve(metadata: CheckpointMetadata): void;
  reject(error: unknown): void;
}

interface Pending {
  readonly checkpointId: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  readonly startedAt: number;
  readonly acks: Map<string, string>;
  readonly waiters: Waiter[];
  timer: ReturnType<typeof setTimeout> | undefined;
  /** All tasks acknowledged: the metadata is being written; it can no longer be aborted. */
  completing: boolean;
}

interface Request {
  readonly savepoint: boolean;
  readonly waiter: Waiter;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs the aligned-barrier checkpoint protocol of one job: trigger → acknowledgements of
 * every task → durable metadata → notify → retention. One checkpoint is in flight at a time;
 * a timeout or an abort ends it, and ids are never reused.
 */
export class CheckpointCoordinator {
  readonly jobId: string;
  private readonly tasks: ReadonlySet<string>;
  private readonly store: CheckpointStore;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly retained: number;
  private readonly options: CheckpointCoordinatorOptions;
  private readonly logger: Logger;

  private nextId: number;
  private pending: Pending | undefined;
  /** Manual checkpoints and savepoints waiting for the one in flight to end. */
  private readonly queue: Request[] = [];
  /** Aborted ids whose partial data is discarded again after the next completion (late writes). */
  private readonly abortedIds = new Set<number>();
  private interval: ReturnType<typeof setInterval> | undefined;
  private completion: Promise<void> | undefined;
  private stopped = false;
  private latest: CheckpointMetadata | undefined;
  private counters = { triggered: 0, completed: 0, aborted: 0 };
  private lastCompletedId: number | undefined;
  private lastDurationMs: number | undefined;

  constructor(options: CheckpointCoordinatorOptions) {
    const { intervalMs, timeoutMs } = options;
    const retained = options.retained ?? 2;
    const first = options.firstCheckpointId ?? 1;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be 0 or a positive number of ms, got ${intervalMs}`);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number of ms, got ${timeoutMs}`);
    if (!Number.isSafeInteger(retained) || retained < 1) throw new RangeError(`retained must be an integer ≥ 1, got ${retained}`);
    if (!Number.isSafeInteger(first) || first < 0) throw new RangeError(`firstCheckpointId must be a non-negative integer, got ${first}`);
    this.jobId = options.jobId;
    this.tasks = new Set(options.tasks);
    this.store = options.store;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.retained = retained;
    this.options = options;
    this.nextId = first;
    this.logger = (options.logger ?? silentLogger).child({ component: 'checkpoint-coordinator', jobId: options.jobId });
  }

  /** Arms the periodic trigger (nothing when intervalMs is 0). Idempotent. */
  start(): void {
    if (this.stopped) {
      this.logger.debug({}, 'start() after stop() ignored');
      return;
    }
    if (this.intervalMs === 0 || this.interval !== undefined) return;
    this.interval = setInterval(() => this.tick(), this.intervalMs);
    this.interval.unref?.();
  }

  /**
   * Triggers a savepoint now (after the checkpoint in flight, if any, ends) and resolves with
   * its metadata once it is complete. Savepoints are never deleted by retention.
   */
  triggerSavepoint(): Promise<CheckpointMetadata> {
    return this.request(true);
  }

  /** Triggers a checkpoint now (after the one in flight, if any, ends); resolves once it is complete. */
  triggerCheckpoint(): Promise<CheckpointMetadata> {
    return this.request(false);
  }

  /**
   * A task's acknowledgement: its snapshot for `checkpointId` is in the store under `handle`.
   * Acks of unknown tasks, of ids not in flight (stale, aborted, unknown) and repeated acks are
   * ignored (debug log).
   */
  acknowledge(taskId: string, checkpointId: number, handle: string): void {
    const p = this.pending;
    if (!this.tasks.has(taskId)) {
      this.logger.debug({ taskId, checkpointId }, `ignoring ack of unknown task ${taskId} for checkpoint ${checkpointId}`);
      return;
    }
    if (p === undefined || p.checkpointId !== checkpointId) {
      this.logger.debug({ taskId, checkpointId, pendingId: p?.checkpointId }, `ignoring ack of task ${taskId} for checkpoint ${checkpointId}: not in flight`);
      return;
    }
    if (p.acks.has(taskId)) {
      this.logger.debug({ taskId, checkpointId }, `ignoring duplicate ack of task ${taskId} for checkpoint ${checkpointId}`);
      return;
    }
    p.acks.set(taskId, handle);
    if (p.acks.size === this.tasks.size) this.finish(p);
  }

  /** A task could not take its snapshot: aborts the checkpoint if it is the one in flight. */
  decline(taskId: string, checkpointId: number, reason: string): void {
    if (this.pending?.checkpointId !== checkpointId) {
      this.logger.debug({ taskId, checkpointId }, `ignoring decline of task ${taskId} for checkpoint ${checkpointId}: not in flight`);
      return;
    }
    this.abort(`task ${taskId} declined: ${reason}`);
  }

  /**
   * Aborts the checkpoint in flight (a task failed, …): waiters get CHECKPOINT_ABORTED,
   * notifyAborted is called, its partial data is discarded and its id is never used again.
   * Returns false when nothing could be aborted (none in flight, or already being completed).
   */
  abort(reason: string): boolean {
    const p = this.pending;
    if (p === undefined || p.completing) return false;
    this.fail(p, reason, new CheckpointError('CHECKPOINT_ABORTED', `checkpoint ${p.checkpointId} of job ${this.jobId} aborted: ${reason}`));
    return true;
  }

  /** The newest checkpoint (or savepoint) completed by this coordinator. */
  latestCompleted(): CheckpointMetadata | undefined {
    return this.latest;
  }

  stats(): CheckpointStats {
    return { ...this.counters, lastCompletedId: this.lastCompletedId, lastDurationMs: this.lastDurationMs, pendingId: this.pending?.checkpointId };
  }

  /**
   * Stops: clears the timers, aborts the checkpoint in flight (unless its metadata is being
   * written, which is awaited) and rejects queued requests with CHECKPOINT_ABORTED.
   */
  async stop(): Promise<void> {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
    if (!this.stopped) {
      this.stopped = true;
      const stopped = (): CheckpointError => new CheckpointError('CHECKPOINT_ABORTED', `the checkpoint coordinator of job ${this.jobId} stopped`);
      for (const r of this.queue.splice(0)) r.waiter.reject(stopped());
      const p = this.pending;
      if (p !== undefined && !p.completing) this.fail(p, 'coordinator stopped', stopped());
    }
    await this.completion;
  }

  private request(savepoint: boolean): Promise<CheckpointMetadata> {
    if (this.stopped) {
      return Promise.reject(new CheckpointError('CHECKPOINT_ABORTED', `the checkpoint coordinator of job ${this.jobId} is stopped`));
    }
    return new Promise<CheckpointMetadata>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (this.pending === undefined && this.queue.length === 0) this.begin(savepoint, [waiter]);
      else this.queue.push({ savepoint, waiter });
    });
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.pending !== undefined || this.queue.length > 0) {
      this.logger.debug({ pendingId: this.pending?.checkpointId }, `periodic checkpoint skipped: checkpoint ${this.pending?.checkpointId ?? '(queued)'} is in flight`);
      return;
    }
    this.begin(false, []);
  }

  /** Starts the next queued request, if nothing is in flight. */
  private next(): void {
    if (this.stopped || this.pending !== undefined) return;
    const r = this.queue.shift();
    if (r !== undefined) this.begin(r.savepoint, [r.waiter]);
  }

  private begin(savepoint: boolean, waiters: Waiter[]): void {
    const checkpointId = this.nextId++;
    const timestamp = Date.now();
    const p: Pending = { checkpointId, timestamp, savepoint, startedAt: performance.now(), acks: new Map(), waiters, timer: undefined, completing: false };
    this.pending = p;
    this.counters.triggered++;
    p.timer = setTimeout(() => {
      if (this.pending !== p || p.completing) return;
      const reason = `timeout after ${this.timeoutMs} ms`;
      this.fail(p, reason, new CheckpointError('CHECKPOINT_TIMEOUT', `checkpoint ${checkpointId} of job ${this.jobId} aborted: ${reason}`));
    }, this.timeoutMs);
    this.logger.debug({ checkpointId, savepoint }, `triggering ${savepoint ? 'savepoint' : 'checkpoint'} ${checkpointId}`);
    try {
      this.options.trigger(checkpointId, timestamp, savepoint);
    } catch (e) {
      if (this.pending === p && !p.completing) {
        this.fail(p, `trigger failed: ${reasonOf(e)}`, new CheckpointError('CHECKPOINT_FAILED', `checkpoint ${checkpointId} of job ${this.jobId} could not be triggered: ${reasonOf(e)}`, { cause: e }));
      }
      return;
    }
    // A job without tasks to wait for (or acks sent synchronously from trigger) completes at once.
    if (this.pending === p && !p.completing && p.acks.size === this.tasks.size) this.finish(p);
  }

  private fail(p: Pending, reason: string, error: CheckpointError): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (this.pending === p) this.pending = undefined;
    this.counters.aborted++;
    this.abortedIds.add(p.checkpointId);
    this.logger.warn({ checkpointId: p.checkpointId, reason, acked: p.acks.size, expected: this.tasks.size }, `checkpoint ${p.checkpointId} of job ${this.jobId} aborted: ${reason}`);
    this.callback('notifyAborted', () => this.options.notifyAborted?.(p.checkpointId, reason));
    for (const w of p.waiters) w.reject(error);
    this.store.discard(this.jobId, p.checkpointId).then(
      () => {},
      (e: unknown) => this.logger.warn({ checkpointId: p.checkpointId, err: e }, `cannot discard the partial data of aborted checkpoint ${p.checkpointId}: ${reasonOf(e)}`),
    );
    this.next();
  }

  private finish(p: Pending): void {
    p.completing = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.completion = this.complete(p).finally(() => {
      this.completion = undefined;
    });
  }

  private async complete(p: Pending): Promise<void> {
    const tasks: Record<string, string> = {};
    for (const id of this.tasks) tasks[id] = p.acks.get(id)!;
    const metadata: CheckpointMetadata = { jobId: this.jobId, checkpointId: p.checkpointId, timestamp: p.timestamp, tasks, savepoint: p.savepoint };
    try {
      await this.store.complete(metadata);
    } catch (e) {
      p.completing = false;
      this.fail(p, `store failed: ${reasonOf(e)}`, new CheckpointError('CHECKPOINT_FAILED', `checkpoint ${p.checkpointId} of job ${this.jobId} could not be recorded: ${reasonOf(e)}`, { cause: e }));
      return;
    }
    this.latest = metadata;
    this.counters.completed++;
    this.lastCompletedId = p.checkpointId;
    this.lastDurationMs = performance.now() - p.startedAt;
    this.logger.info({ checkpointId: p.checkpointId, savepoint: p.savepoint, durationMs: this.lastDurationMs }, `${p.savepoint ? 'savepoint' : 'checkpoint'} ${p.checkpointId} of job ${this.jobId} complete`);
    this.callback('notifyComplete', () => this.options.notifyComplete?.(p.checkpointId));
    await this.retain(p.checkpointId);
    if (this.pending === p) this.pending = undefined;
    for (const w of p.waiters) w.resolve(metadata);
    this.next();
  }

  /** Deletes completed checkpoints beyond the newest `retained` (never savepoints) and aborted leftovers. */
  private async retain(completedId: number): Promise<void> {
    try {
      const all = await this.store.list(this.jobId);
      const regular = all.filter((m) => !m.savepoint && m.checkpointId <= completedId);
      const drop = regular.slice(0, Math.max(0, regular.length - this.retained)).map((m) => m.checkpointId);
      for (const id of this.abortedIds) if (id < completedId) drop.push(id);
      for (const id of drop) {
        await this.store.discard(this.jobId, id);
        this.abortedIds.delete(id);
        this.logger.debug({ checkpointId: id }, `discarded checkpoint ${id}`);
      }
    } catch (e) {
      this.logger.warn({ err: e }, `retention after checkpoint ${completedId} failed: ${reasonOf(e)}`);
    }
  }

  private callback(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error({ err: e }, `${name} threw: ${reasonOf(e)}`);
    }
  }
}
