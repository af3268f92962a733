import type { ElementTime } from '../element-time.js';
import { CoreOptions, MobiusError, type TaskFailedError } from '@mobius/interface';
import type { StateKey } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { operatorFailure, type OperatorIdentity } from './operator.js';
import type { DrainableCalls, PendingWrites } from './pending-writes.js';

/** How an operator runs its async calls (`runtime.async.*`, per operator). */
export interface AsyncSettings {
  /** Calls in flight, completed results waiting for their turn included. */
  readonly capacity: number;
  /** Results leave in input order; false: as they complete, never across a watermark. */
  readonly ordered: boolean;
  /** A call not completed within this many ms fails the task; 0: no limit. */
  readonly timeoutMs: number;
  /**
   * Each call's promise also goes into PendingWrites, so the task settles it with its input
   * batch (async sinks, as before async operators existed); otherwise the task waits only at capacity.
   */
  readonly settleWithBatch: boolean;
}

export const DEFAULT_ASYNC_SETTINGS: AsyncSettings = {
  capacity: CoreOptions.ASYNC_CAPACITY.default,
  ordered: CoreOptions.ASYNC_ORDERED.default,
  timeoutMs: CoreOptions.ASYNC_TIMEOUT_MS.default,
  settleWithBatch: false,
};

/** The operator whose calls an AsyncCalls runs. */
export interface AsyncHost {
  readonly identity: OperatorIdentity;
  /** The current key, on a keyed stream: a call started later runs in its record's key. */
  readonly keys: KeyContext | undefined;
  /** Calls the user's function on `record`; returns its value (a thenable or a plain value). */
  call(record: unknown): unknown;
  /** Emits the result of one call (a map's value, a filter's record, a flatMap's iterable). */
  emitResult(record: unknown, value: unknown): void;
  /** The task's element time: a result leaves with its input record's timestamp. */
  readonly time: ElementTime;
  /** Sends a watermark on (after the results of the records before it). */
  forwardWatermark(watermark: number): void;
}

/** Promise/A+ thenable test: the one check the synchronous path pays per record. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function') ||
    (typeof value === 'function' && typeof (value as unknown as PromiseLike<unknown>).then === 'function')
  );
}

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;
const EMITTED = 3;
const WATERMARK = 4;

class Entry {
  value: unknown = undefined;
  /** The record's key (keyed operators): a call started after later records came runs in it. */
  key: StateKey | undefined = undefined;
  /** Settled with the call (`settleWithBatch`): what the task awaits with its input batch. */
  write: Deferred | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The input record's timestamp (NaN: none): its result leaves with it. */
  timestamp = NaN;

  constructor(
    /** The input record (a watermark entry: the watermark). */
    public record: unknown,
    public state: number,
    /** Watermarks queued before this entry: results never leave across one. */
    readonly segment: number,
  ) {}
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Awaited later by the task's loop; a rejection before that must not count as unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * The calls in flight of one async operator (Flink's AsyncWaitOperator with its ordered or
 * unordered stream element queue): inputs queue in order, at most `capacity` are started and not
 * yet emitted, results leave in input order (or, unordered, as they complete within the stretch
 * between two watermarks), and watermarks wait behind the records before them. Inputs beyond
 * capacity wait unstarted; the task stops taking input meanwhile (the `room` promise it awaits
 * between batches), so they are at most one input batch.
 *
 * Completions arrive outside the task's loop: results are emitted from there and the task is
 * told (`PendingWrites.onOutput`, to send them after its linger); a rejection, a synchronous throw
 * or a timeout fails the task at once (`onFailure`). Before a barrier the task drains every call
 * (`drain`), so a checkpoint never holds a record in flight.
 */
export class AsyncCalls implements DrainableCalls {
  private queue: Entry[] = [];
  /** First entry not yet gone. */
  private head = 0;
  /** Next entry to start; entries before it are started (or watermarks). */
  private next = 0;
  /** Calls started whose results have not left. */
  private held = 0;
  private waiting = 0;
  private watermarksQueued = 0;
  private watermarksPassed = 0;
  private lastWatermark = -Infinity;
  private failure: TaskFailedError | undefined = undefined;
  private closed = false;
  private pumping = false;
  /** Something left since the task was last told. */
  private emitted = false;
  private room: Deferred | null = null;
  private idle: Deferred | null = null;

  constructor(
    private readonly host: AsyncHost,
    private readonly settings: AsyncSettings,
    private readonly pending: PendingWrites,
  ) {
    pending.calls.push(this);
  }

  /** True while calls are in flight or results or watermarks wait for their turn. */
  get busy(): boolean {
    return this.head < this.queue.length;
  }

  /** The first call, made by the operator's synchronous path, returned `thenable`: it becomes the first call in flight. */
  begin(record: unknown, thenable: PromiseLike<unknown>): void {
    const e = new Entry(record, RUNNING, this.watermarksQueued);
    e.timestamp = this.host.time.timestamp;
    this.queue.push(e);
    this.next = this.queue.length;
    this.held++;
    this.track(e, thenable);
    this.afterInput();
  }

  /** One input record: queued, started when there is room. Throws the operator's failure, if any. */
  push(record: unknown): void {
    if (this.failure !== undefined) throw this.failure;
    this.compact();
    const e = new Entry(record, WAITING, this.watermarksQueued);
    e.timestamp = this.host.time.timestamp;
    const keys = this.host.keys;
    if (keys !== undefined) e.key = keys.currentKey;
    this.queue.push(e);
    this.waiting++;
    this.pump();
    this.afterInput();
  }

  /** The input watermark rose: it leaves after the results of every record queued before it. */
  pushWatermark(watermark: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (watermark <= this.lastWatermark) return;
    this.lastWatermark = watermark;
    if (!this.busy) {
      this.host.forwardWatermark(watermark);
      return;
    }
    // A watermark right behind another replaces it: no record lies between them, so the queue
    // holds at most one watermark per record while a slow call holds the head.
    const last = this.queue[this.queue.length - 1];
    if (last.state === WATERMARK) last.record = watermark;
    else this.queue.push(new Entry(watermark, WATERMARK, this.watermarksQueued++));
  }

  drain(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.busy || this.closed) return Promise.resolve();
    this.idle ??= deferred();
    return this.idle.promise;
  }

  /** The task ends (cancel, failure or close): late completions are dropped, waiters released. */
  close(reason?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const why = reason ?? new MobiusError('TASK_CANCELLED', `operator "${this.host.identity.operatorName}": the task ended with async calls in flight`);
    this.release(why);
    this.queue = [];
    this.head = this.next = 0;
    this.room?.reject(why);
    this.idle?.reject(why);
    this.room = this.idle = null;
  }

  private afterInput(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.settings.settleWithBatch || this.room !== null) return;
    if (this.waiting > 0 || this.held >= this.settings.capacity) {
      this.room = deferred();
      this.pending.promises.push(this.room.promise);
    }
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const q = this.queue;
      const capacity = this.settings.capacity;
      while (this.held < capacity && this.next < q.length && this.failure === undefined && !this.closed) {
        const e = q[this.next++];
        if (e.state === WAITING) this.start(e);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(e: Entry): void {
    e.state = RUNNING;
    this.waiting--;
    this.held++;
    const keys = this.host.keys;
    const current = keys?.currentKey;
    if (keys !== undefined) keys.currentKey = e.key;
    let result: unknown;
    try {
      result = this.host.call(e.record);
    } catch (err) {
      this.fail(err);
      return;
    } finally {
      if (keys !== undefined) keys.currentKey = current;
    }
    this.track(e, result);
  }

  private track(e: Entry, result: unknown): void {
    if (!isThenable(result)) {
      this.complete(e, result);
      return;
    }
    const { timeoutMs } = this.settings;
    if (timeoutMs > 0) e.timer = setTimeout(() => this.timeout(e), timeoutMs);
    if (this.settings.settleWithBatch) {
      // Resolved when the call completes, rejected when the operator fails or the task ends,
      // so the task's wait on its batch never outlives the task.
      e.write = deferred();
      this.pending.promises.push(e.write.promise);
    }
    Promise.resolve(result)
      .then(
        (v) => this.complete(e, v),
        (err: unknown) => this.fail(err),
      )
      // Nothing awaits this chain: whatever goes wrong in it fails the operator, never the process.
      .catch((err: unknown) => this.fail(err));
  }

  private complete(e: Entry, value: unknown): void {
    if (this.closed || this.failure !== undefined || e.state !== RUNNING) return;
    if (e.timer !== undefined) clearTimeout(e.timer);
    e.timer = undefined;
    e.value = value;
    e.state = DONE;
    e.write?.resolve();
    try {
      this.emitReady(e);
    } catch (err) {
      // Failing downstream (a chained operator threw): that operator's error is the task's.
      this.fail(err);
      return;
    }
    if (this.pumping) return;
    this.pump();
    if (this.emitted) {
      this.emitted = false;
      this.pending.onOutput();
    }
    this.wakeWaiters();
  }

  /** Emits what may leave now. */
  private emitReady(done: Entry): void {
    if (!this.settings.ordered && done.segment === this.watermarksPassed) this.emit(done);
    const q = this.queue;
    while (this.head < q.length) {
      const h = q[this.head];
      if (h.state === DONE) {
        this.emit(h);
      } else if (h.state === WATERMARK) {
        this.watermarksPassed++;
        this.emitted = true;
        this.host.forwardWatermark(h.record as number);
        if (!this.settings.ordered) this.emitSegment(this.head + 1);
      } else if (h.state !== EMITTED) {
        break;
      }
      this.head++;
    }
  }

  /** Unordered: a watermark left, so the results completed behind it leave now. */
  private emitSegment(from: number): void {
    const q = this.queue;
    for (let i = from; i < q.length && q[i].state !== WATERMARK; i++) if (q[i].state === DONE) this.emit(q[i]);
  }

  private emit(e: Entry): void {
    e.state = EMITTED;
    this.emitted = true;
    this.held--;
    const value = e.value;
    e.value = undefined;
    this.host.time.timestamp = e.timestamp;
    this.host.emitResult(e.record, value);
  }

  private wakeWaiters(): void {
    if (this.room !== null && this.waiting === 0 && this.held < this.settings.capacity) {
      this.room.resolve();
      this.room = null;
    }
    if (this.idle !== null && !this.busy) {
      this.idle.resolve();
      this.idle = null;
    }
  }

  private timeout(e: Entry): void {
    e.timer = undefined;
    if (e.state !== RUNNING) return;
    this.fail(new MobiusError('ASYNC_TIMEOUT', `an async call did not complete within ${this.settings.timeoutMs} ms (runtime.async.timeout.ms)`));
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined || this.closed) return;
    const failure = operatorFailure(this.host.identity, err);
    this.failure = failure;
    this.release(failure);
    this.room?.reject(failure);
    this.idle?.reject(failure);
    this.room = this.idle = null;
    this.pending.onFailure(failure);
  }

  /** Calls in flight will not count any more: their timers stop, their batch writes reject with `why`. */
  private release(why: unknown): void {
    for (let i = this.head; i < this.next && i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e.timer !== undefined) clearTimeout(e.timer);
      e.timer = undefined;
      e.write?.reject(why);
    }
  }

  /** Drops the entries already gone, so the queue holds at most capacity plus one input batch. */
  private compact(): void {
    if (this.head === 0) return;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = this.next = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.next -= this.head;
      this.head = 0;
    }
  }
}
