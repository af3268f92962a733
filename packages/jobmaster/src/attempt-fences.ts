import { MobiusError, type CancelTasks, type TaskToDeploy } from '@mobius/interface';

/** Jobs whose fence a worker remembers; the oldest is forgotten first (a job long gone). */
const MAX_FENCED_JOBS = 1024;

/**
 * A worker's memory, per job, of the highest task attempt cancelled (Flink fences by execution
 * attempt the same way). A deployment still in flight when its job master cancelled it (e.g. a
 * worker slow to import the job, whose deployment timed out) must not start its tasks when it
 * completes: `check` refuses any deployment of an attempt at or below the fence.
 */
export class AttemptFences {
  private readonly fences = new Map<string, number>();

  /**
   * A cancel arrived. With a `before` fence it covers attempts below the highest one named;
   * without, every attempt of the job's tasks here (`attemptsHere`).
   */
  cancelled(jobId: string, which: CancelTasks | undefined, attemptsHere: Iterable<number>): void {
    let through = -1;
    if (which?.before !== undefined) for (const a of Object.values(which.before)) through = Math.max(through, a - 1);
    else for (const a of attemptsHere) through = Math.max(through, a);
    if (through < 0 || through <= (this.fences.get(jobId) ?? -1)) return;
    this.fences.delete(jobId); // re-inserted last: the map's order is the eviction order
    this.fences.set(jobId, through);
    if (this.fences.size > MAX_FENCED_JOBS) this.fences.delete(this.fences.keys().next().value!);
  }

  /** The highest attempt of the job cancelled here (-1: none). */
  fencedThrough(jobId: string): number {
    return this.fences.get(jobId) ?? -1;
  }

  /** Throws a `DEPLOY_FENCED` MobiusError when any of the tasks is an attempt already cancelled. */
  check(jobId: string, tasks: readonly TaskToDeploy[]): void {
    const through = this.fencedThrough(jobId);
    const stale = tasks.filter((t) => t.attempt <= through);
    if (stale.length === 0) return;
    throw new MobiusError(
      'DEPLOY_FENCED',
      `job ${jobId}: attempts up to ${through} were cancelled before this deployment completed; not starting ${stale.map((t) => `${t.taskId} (attempt ${t.attempt})`).join(', ')}`,
    );
  }
}
