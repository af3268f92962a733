import { MobiusError } from '@mobius/interface';
import type { CapturedJob } from './load-job.js';
import { PlanQueueFullError } from './plan-errors.js';
import type { PlanRequest } from './plan-protocol.js';
import { PlanningChild, type PlanningChildLimits } from './planning-child.js';

export interface JobPlannerOptions {
  /** `job.plan.timeout.ms`: a job that has not submitted within this is killed. Default 30000. */
  readonly timeoutMs?: number;
  /** The planning child's V8 heap limit (`--max-old-space-size`), in MiB. Default 512. */
  readonly maxHeapMb?: number;
  /** Planning children at once; the rest wait in the queue. Default 4. */
  readonly concurrency?: number;
  /** Submissions that may wait for a planning child; one more is a `PLAN_QUEUE_FULL`. Default 32. */
  readonly queueLimit?: number;
  /** How much of the end of the job's stderr a `JOB_EXITED` error keeps. Default 4096 bytes. */
  readonly stderrTailBytes?: number;
}

export const PLANNER_DEFAULTS = { timeoutMs: 30_000, maxHeapMb: 512, concurrency: 4, queueLimit: 32, stderrTailBytes: 4096 } as const;

/**
 * Plans job bundles in child processes, so a job's own code (which runs when its module is
 * imported) never runs in the caller's process: an exit, a crash, a hang, an endless loop or an
 * out-of-memory ends that child and fails that one plan with a typed error. Up to `concurrency`
 * children run at once; up to `queueLimit` plans wait for one.
 */
export class JobPlanner {
  readonly timeoutMs: number;
  readonly maxHeapMb: number;
  readonly concurrency: number;
  readonly queueLimit: number;
  private readonly limits: PlanningChildLimits;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly children = new Set<PlanningChild>();
  private spare: PlanningChild | undefined;
  private closed = false;

  constructor(options: JobPlannerOptions = {}) {
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? PLANNER_DEFAULTS.timeoutMs);
    this.maxHeapMb = positive('maxHeapMb', options.maxHeapMb ?? PLANNER_DEFAULTS.maxHeapMb);
    this.concurrency = positive('concurrency', options.concurrency ?? PLANNER_DEFAULTS.concurrency);
    this.queueLimit = options.queueLimit ?? PLANNER_DEFAULTS.queueLimit;
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 0) throw new MobiusError('CONFIG_INVALID_VALUE', `JobPlanner queueLimit must be an integer of at least 0, got ${String(this.queueLimit)}`);
    const stderrTailBytes = positive('stderrTailBytes', options.stderrTailBytes ?? PLANNER_DEFAULTS.stderrTailBytes);
    this.limits = { timeoutMs: this.timeoutMs, maxHeapMb: this.maxHeapMb, stderrTailBytes };
  }

  /** Plans running now, and plans waiting for a child. */
  get load(): { readonly running: number; readonly queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /**
   * Imports the written bundle at `path` in a child, with `process.argv` `[node, path, ...args]`,
   * and returns the graph it submitted (functions left behind: they run on workers).
   */
  async plan(path: string, args: readonly string[] = []): Promise<CapturedJob> {
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length >= this.queueLimit) throw new PlanQueueFullError(this.queueLimit);
    // A finished plan hands its slot straight to the next waiting one (running stays counted),
    // so a plan arriving in between cannot take it and exceed `concurrency`.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await this.planInChild({ path, args: [...args] });
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }

  /** Kills every planning child (their plans fail) and starts no spare any more; for shutdown. */
  close(): void {
    this.closed = true;
    this.spare?.kill();
    this.spare = undefined;
    for (const child of this.children) child.kill();
  }

  /** Starts the child for the next plan now, so the first plan does not wait for a process start. */
  warm(): void {
    if (!this.closed && (this.spare === undefined || !this.spare.usable)) this.spare = new PlanningChild(this.limits);
  }

  /** The child ready for the next plan (started ahead), replaced by a fresh one once taken. */
  private takeChild(): PlanningChild {
    const ready = this.spare !== undefined && this.spare.usable ? this.spare : new PlanningChild(this.limits);
    this.spare = this.closed ? undefined : new PlanningChild(this.limits);
    return ready;
  }

  private async planInChild(request: PlanRequest): Promise<CapturedJob> {
    const child = this.takeChild();
    this.children.add(child);
    try {
      return await child.run(request);
    } finally {
      this.children.delete(child);
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new MobiusError('CONFIG_INVALID_VALUE', `JobPlanner ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
