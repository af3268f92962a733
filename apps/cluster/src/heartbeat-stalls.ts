import type { TaskProgressReport } from '@mobius/interface';

/** A task attempt the monitor follows. */
interface Followed {
  readonly attempt: number;
  records: number;
  /** When its count last moved (or it last let its thread go). */
  progressAt: number;
  stalled: boolean;
  failed: boolean;
}

/** What one heartbeat's progress means for a task. */
export interface StallVerdict {
  readonly jobId: string;
  readonly taskId: string;
  readonly attempt: number;
  /** How long the task held its thread without processing a record. */
  readonly stalledMs: number;
  /** `stall`: it just became stalled (a metric); `timeout`: it passed its job's stall timeout. */
  readonly kind: 'stall' | 'timeout';
}

/**
 * Tells a busy task from a stalled one, from the progress the workers' heartbeat threads report:
 * a task that holds its thread with input in hand (`busy`) and whose record count has not moved
 * for `stallAfterMs` is stalled; past its job's `task.stall.timeout.ms` (0: never) it is to be
 * failed, once per attempt. A task that lets its thread go, or moves on, is not stalled.
 */
export class TaskStallMonitor {
  /** `jobId/taskId` → the attempt followed. */
  private readonly followed = new Map<string, Followed>();
  /** Tasks that became stalled, since the coordinator started. */
  stallsTotal = 0;
  /** Stalled tasks failed for passing their stall timeout, since the coordinator started. */
  stallFailuresTotal = 0;

  constructor(private readonly stallAfterMs: number) {}

  /**
   * One heartbeat's progress of a worker. `current(jobId, taskId, attempt)`: the job's stall
   * timeout when that attempt is the task's current one on this worker, else undefined (the
   * report is ignored).
   */
  observe(reports: readonly TaskProgressReport[], now: number, current: (jobId: string, taskId: string, attempt: number) => number | undefined): StallVerdict[] {
    const verdicts: StallVerdict[] = [];
    for (const r of reports) {
      const slash = r.taskId.indexOf('/');
      const jobId = r.taskId.slice(0, slash);
      const taskId = r.taskId.slice(slash + 1);
      const timeoutMs = current(jobId, taskId, r.attempt);
      if (timeoutMs === undefined) continue;
      let f = this.followed.get(r.taskId);
      if (f === undefined || f.attempt !== r.attempt) {
        f = { attempt: r.attempt, records: r.records, progressAt: now, stalled: false, failed: false };
        this.followed.set(r.taskId, f);
        continue;
      }
      if (!r.busy || r.records !== f.records) {
        f.records = r.records;
        f.progressAt = now;
        f.stalled = false;
        continue;
      }
      const stalledMs = now - f.progressAt;
      if (!f.stalled && (stalledMs >= this.stallAfterMs || (timeoutMs > 0 && stalledMs >= timeoutMs))) {
        f.stalled = true;
        this.stallsTotal++;
        verdicts.push({ jobId, taskId, attempt: r.attempt, stalledMs, kind: 'stall' });
      }
      if (!f.failed && timeoutMs > 0 && stalledMs >= timeoutMs) {
        f.failed = true;
        this.stallFailuresTotal++;
        verdicts.push({ jobId, taskId, attempt: r.attempt, stalledMs, kind: 'timeout' });
      }
    }
    return verdicts;
  }

  /** True while the task's attempt is stalled. */
  isStalled(jobId: string, taskId: string, attempt: number): boolean {
    const f = this.followed.get(`${jobId}/${taskId}`);
    return f !== undefined && f.attempt === attempt && f.stalled;
  }

  /** Forgets the tasks of a job that ended. */
  forgetJob(jobId: string): void {
    for (const key of this.followed.keys()) if (key.startsWith(`${jobId}/`)) this.followed.delete(key);
  }
}
