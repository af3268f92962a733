/** What a task is doing, as its load meter counts time. */
export const LoadState = {
  /** Records (or a snapshot, or its own async calls) in hand. */
  Busy: 0,
  /** Waiting for output credit. */
  BackPressured: 1,
  /** Waiting for input. */
  Idle: 2,
  /**
   * Work in hand, but the task let the event loop run (other tasks of its thread, timers, I/O).
   * Not the task's own time: the three reported times are shares of the rest.
   */
  Ready: 3,
} as const;
export type LoadState = (typeof LoadState)[keyof typeof LoadState];

/** A task's load over its window (see {@link TaskLoad.read}). */
export interface LoadFigures {
  readonly busyTimeMsPerSecond: number;
  readonly backPressuredTimeMsPerSecond: number;
  readonly idleTimeMsPerSecond: number;
  readonly recordsInPerSecond: number;
  readonly recordsOutPerSecond: number;
  /** Absent when the task was not busy in the window (the rate would be infinite). */
  readonly trueProcessingRate?: number;
  readonly trueOutputRate?: number;
}

/** Figures per one-second bucket: the time of each LoadState (its value is its index), then the counts. */
const BUSY = LoadState.Busy;
const BACKPRESSURED = LoadState.BackPressured;
const IDLE = LoadState.Idle;
const IN = 4;
const OUT = 5;
const FIGURES = 6;

/** Below this much busy time in a window, a true rate would be noise (or infinite): it is left out. */
const MIN_BUSY_MS = 1;

const round2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * A task's load meter (Flink's busy / backpressured / idle time per second). The task's loops
 * tell it when the task changes what it does — at loop turns and waits, never per record — and
 * where its record counts stand; the meter charges the time since the last change to the state
 * the task was in, split at whole seconds into a ring of one-second buckets. A reading averages
 * the last complete seconds of the window (so figures move once a second, as Flink's do), or,
 * in a task's first second, the time since it started. Tasks share a thread (every task of an
 * embedded job, the tasks of a worker's slot): the time a task with work in hand waits for the
 * thread ({@link LoadState.Ready}) is nobody's busy time, so the three times are shares of the
 * task's own time (they add up to 1000 ms per second) while the record rates and the true rates
 * are per wall-clock second and per second of real busy time. Time is the monotonic clock
 * (`performance.now()`), never the wall clock, so a clock step cannot make a negative duration.
 */
export class TaskLoad {
  private readonly seconds: number;
  /** `seconds + 1` buckets (the current, partial one included) × {@link FIGURES}. */
  private readonly buckets: Float64Array;
  private readonly started: number;
  /** The bucket second the meter last wrote to. */
  private current: number;
  private state: LoadState = LoadState.Busy;
  private since: number;
  private recordsIn = 0;
  private recordsOut = 0;

  constructor(
    windowMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!Number.isFinite(windowMs) || windowMs < 1000) throw new RangeError(`a load window of ${windowMs} ms is shorter than one second`);
    this.seconds = Math.ceil(windowMs / 1000);
    this.buckets = new Float64Array((this.seconds + 1) * FIGURES);
    this.started = this.since = clock();
    this.current = Math.floor(this.started / 1000);
  }

  /** The task now does `state`; `recordsIn` / `recordsOut`: its counts so far. */
  enter(state: LoadState, recordsIn: number, recordsOut: number): void {
    this.account(this.clock(), recordsIn, recordsOut);
    this.state = state;
  }

  /**
   * The figures over the window, with the time since the last change charged to the current
   * state. The counts are those the loop last reported (at most one work slice old): a task's
   * records-in counter runs ahead of its work by the rest of the frame in hand.
   */
  read(): LoadFigures {
    const now = this.clock();
    this.account(now, this.recordsIn, this.recordsOut);
    const sums = [0, 0, 0, 0, 0, 0];
    let from: number;
    let to: number;
    const startSecond = Math.floor(this.started / 1000);
    if (this.current === startSecond) {
      // The first second: what there is so far.
      from = this.started;
      to = now;
      this.addBucket(sums, this.current);
    } else {
      const first = Math.max(startSecond, this.current - this.seconds);
      for (let s = first; s < this.current; s++) this.addBucket(sums, s);
      from = Math.max(this.started, first * 1000);
      to = this.current * 1000;
    }
    const span = Math.max(to - from, 1e-3);
    const perSecond = 1000 / span;
    const busy = sums[BUSY];
    const own = busy + sums[BACKPRESSURED] + sums[IDLE];
    const share = own > 0 ? 1000 / own : perSecond;
    const busySeconds = busy / 1000;
    const rates = busy >= MIN_BUSY_MS ? { trueProcessingRate: round2(sums[IN] / busySeconds), trueOutputRate: round2(sums[OUT] / busySeconds) } : {};
    return {
      busyTimeMsPerSecond: round2(busy * share),
      backPressuredTimeMsPerSecond: round2(sums[BACKPRESSURED] * share),
      idleTimeMsPerSecond: round2(sums[IDLE] * share),
      recordsInPerSecond: round2(sums[IN] * perSecond),
      recordsOutPerSecond: round2(sums[OUT] * perSecond),
      ...rates,
    };
  }

  private addBucket(sums: number[], second: number): void {
    const at = (second % (this.seconds + 1)) * FIGURES;
    for (let f = 0; f < FIGURES; f++) sums[f] += this.buckets[at + f];
  }

  /** Charges `since → now` to the current state (split at whole seconds) and the count deltas to now's second. */
  private account(now: number, recordsIn: number, recordsOut: number): void {
    let from = this.since;
    if (now > from) {
      const figure = this.state;
      // Beyond the ring, older time would be overwritten anyway.
      const oldest = (Math.floor(now / 1000) - this.seconds) * 1000;
      if (from < oldest) from = oldest;
      while (from < now) {
        const second = Math.floor(from / 1000);
        const end = Math.min(now, (second + 1) * 1000);
        this.buckets[this.bucketAt(second) + figure] += end - from;
        from = end;
      }
      this.since = now;
    }
    const at = this.bucketAt(Math.floor(now / 1000));
    this.buckets[at + IN] += recordsIn - this.recordsIn;
    this.buckets[at + OUT] += recordsOut - this.recordsOut;
    this.recordsIn = recordsIn;
    this.recordsOut = recordsOut;
  }

  /** The offset of `second`'s bucket, clearing the buckets of the seconds the meter skipped. */
  private bucketAt(second: number): number {
    if (second > this.current) {
      const ring = this.seconds + 1;
      const skipped = Math.min(second - this.current, ring);
      for (let s = second - skipped + 1; s <= second; s++) this.buckets.fill(0, (s % ring) * FIGURES, (s % ring + 1) * FIGURES);
      this.current = second;
    }
    return (second % (this.seconds + 1)) * FIGURES;
  }
}
