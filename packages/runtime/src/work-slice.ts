/**
 * How long a task loop works before it lets the event loop run (timers, I/O, control messages,
 * other tasks of the worker). The clock is read every {@link WorkSlice.CHECK_EVERY} records,
 * never per record, so the check costs the hot path nothing measurable.
 */
export class WorkSlice {
  /** Records between two reads of the clock. */
  static readonly CHECK_EVERY = 32;
  /** Work between two yields, in milliseconds. */
  static readonly BUDGET_MS = 4;

  private started = performance.now();

  /** True when the slice ran its budget: the loop yields, then {@link restart}s. */
  spent(): boolean {
    return performance.now() - this.started >= WorkSlice.BUDGET_MS;
  }

  restart(): void {
    this.started = performance.now();
  }
}
