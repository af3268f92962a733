interface Callback {
  readonly time: number;
  readonly run: (now: number) => void;
}

/**
 * Processing-time callbacks of a task's operators that are not keyed (Flink's
 * ProcessingTimeService): kept in time order, run by the task loop when due. Each operator keeps
 * at most a few (a periodic watermark re-schedules itself), so a sorted array is enough.
 */
export class ProcessingCallbacks {
  private pending: Callback[] = [];

  /** `wake(time)`: the earliest callback is now due at `time` (the task arms its loop). */
  constructor(private readonly wake: (time: number) => void) {}

  get size(): number {
    return this.pending.length;
  }

  scheduleAt(time: number, run: (now: number) => void): void {
    const list = this.pending;
    let i = list.length;
    while (i > 0 && list[i - 1].time > time) i--;
    list.splice(i, 0, { time, run });
    if (i === 0) this.wake(time);
  }

  /**
   * Runs, in time order, every callback due at `now` (callbacks scheduled meanwhile for a later
   * time wait), then asks for a wake-up at the earliest one left. Also when none was due yet: a
   * wake-up timer can fire a millisecond before `Date.now()` reaches its time (Node measures
   * timeouts on its loop's cached clock), and the task re-arms only on this request.
   */
  fire(now: number): void {
    if (this.pending.length === 0) return;
    if (this.pending[0].time > now) {
      this.wake(this.pending[0].time);
      return;
    }
    const due: Callback[] = [];
    while (this.pending.length > 0 && this.pending[0].time <= now) due.push(this.pending.shift()!);
    for (const c of due) c.run(now);
    if (this.pending.length > 0) this.wake(this.pending[0].time);
  }
}
