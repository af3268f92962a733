/**
 * Time the coordinator's own event loop was held between two liveness checks (a long GC pause,
 * the process stopped, the machine suspended or starved). Heartbeats that arrived meanwhile wait
 * in the socket behind the check that runs first after the pause, so without this every worker
 * would look silent for the whole pause and be declared lost at once.
 */
export class LoopPauses {
  private last: number;

  /** `everyMs`: the check's period; `toleranceMs`: lateness still counted as the workers' silence. */
  constructor(
    private readonly everyMs: number,
    private readonly toleranceMs: number,
    now = Date.now(),
  ) {
    this.last = now;
  }

  /** Called at each check: how long the loop was held beyond the period since the previous check (0 when within the tolerance). */
  held(now = Date.now()): number {
    const late = now - this.last - this.everyMs;
    this.last = now;
    return late > this.toleranceMs ? late : 0;
  }
}
