import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MobiusError } from '@mobius/interface';
import type { CapturedJob } from './load-job.js';
import { JobExitedError, PlanQueueFullError, PlanTimeoutError } from './plan-errors.js';
import type { PlanReply, PlanRequest } from './plan-protocol.js';
import { fromPortableJob } from './portable-graph.js';

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

const require = createRequire(import.meta.url);

/** The child's entry beside this file: built (`.js`/`.cjs`), or the source under vitest (through tsx). */
function childCommand(): string[] {
  const built = fileURLToPath(new URL(import.meta.url.endsWith('.cjs') ? './plan-child.cjs' : './plan-child.js', import.meta.url));
  if (existsSync(built)) return [built];
  return ['--import', pathToFileURL(require.resolve('tsx/esm')).href, fileURLToPath(new URL('./plan-child.ts', import.meta.url))];
}

/** The environment the job sees: this process's, without the cluster's secrets. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MOBIUS_TOKEN;
  delete env.MOBIUS_TOKEN_FILE;
  return env;
}

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
  private readonly stderrTailBytes: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(options: JobPlannerOptions = {}) {
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? PLANNER_DEFAULTS.timeoutMs);
    this.maxHeapMb = positive('maxHeapMb', options.maxHeapMb ?? PLANNER_DEFAULTS.maxHeapMb);
    this.concurrency = positive('concurrency', options.concurrency ?? PLANNER_DEFAULTS.concurrency);
    this.queueLimit = options.queueLimit ?? PLANNER_DEFAULTS.queueLimit;
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 0) throw new MobiusError('CONFIG_INVALID_VALUE', `JobPlanner queueLimit must be an integer of at least 0, got ${String(this.queueLimit)}`);
    this.stderrTailBytes = positive('stderrTailBytes', options.stderrTailBytes ?? PLANNER_DEFAULTS.stderrTailBytes);
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

  /** Kills every planning child (their plans fail); for shutdown. */
  close(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }

  private planInChild(request: PlanRequest): Promise<CapturedJob> {
    return new Promise<CapturedJob>((resolve, reject) => {
      const child = spawn(process.execPath, [`--max-old-space-size=${this.maxHeapMb}`, ...childCommand()], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        env: childEnv(),
      });
      this.children.add(child);
      let stderr = '';
      let settled = false;
      const settle = (error: Error | undefined, job?: CapturedJob): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // The child's job is done either way; whatever the job left running must not go on.
        child.kill('SIGKILL');
        if (error !== undefined) reject(error);
        else resolve(job!);
      };
      const timer = setTimeout(() => settle(new PlanTimeoutError(this.timeoutMs)), this.timeoutMs);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.length > 2 * this.stderrTailBytes) stderr = stderr.slice(-this.stderrTailBytes);
      });
      child.on('message', (reply: PlanReply) => {
        if (reply?.type === 'planned') {
          try {
            settle(undefined, fromPortableJob(reply.job));
          } catch (e) {
            settle(new MobiusError('INVALID_JOB', `the planning process sent a graph that cannot be read: ${(e as Error).message}`));
          }
        } else if (reply?.type === 'failed') settle(new MobiusError(String(reply.code), String(reply.message)));
      });
      child.on('error', (e) => settle(new MobiusError('PLAN_FAILED', `could not start the planning process: ${e.message}`)));
      child.on('exit', (code, signal) => {
        this.children.delete(child);
        // stderr may still hold bytes after 'exit': wait for the pipe to close before reporting.
        const report = (): void => settle(new JobExitedError(code, signal, stderr.slice(-this.stderrTailBytes).trimEnd()));
        if (child.stderr!.closed) report();
        else child.stderr!.once('close', report);
      });
      child.send(request, (e) => {
        if (e !== null) settle(new MobiusError('PLAN_FAILED', `could not reach the planning process: ${e.message}`));
      });
    });
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new MobiusError('CONFIG_INVALID_VALUE', `JobPlanner ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
