import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MobiusError } from '@mobius/interface';
import type { CapturedJob } from './load-job.js';
import { JobExitedError, PlanTimeoutError } from './plan-errors.js';
import type { PlanReply, PlanRequest } from './plan-protocol.js';
import { fromPortableJob } from './portable-graph.js';

const require = createRequire(import.meta.url);

/** The child's entry beside this file: built (`.js`/`.cjs`), or the source under vitest (through tsx). */
function childCommand(): string[] {
  const built = fileURLToPath(new URL(import.meta.url.endsWith('.cjs') ? './plan-child.cjs' : './plan-child.js', import.meta.url));
  if (existsSync(built)) return [built];
  return ['--import', pathToFileURL(require.resolve('tsx/esm')).href, fileURLToPath(new URL('./plan-child.ts', import.meta.url))];
}

/**
 * The module every job bundle imports (`mobius`, resolved as writeBundle links it), for the child
 * to load before it is needed; undefined when it is not installed here.
 */
function preloadUrl(): string | undefined {
  try {
    return pathToFileURL(require.resolve('mobius')).href;
  } catch {
    return undefined;
  }
}

/** The environment the job sees: this process's, without the cluster's secrets. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MOBIUS_TOKEN;
  delete env.MOBIUS_TOKEN_FILE;
  return env;
}

export interface PlanningChildLimits {
  readonly timeoutMs: number;
  readonly maxHeapMb: number;
  readonly stderrTailBytes: number;
}

/**
 * One planning child process, for one plan. It is started ahead of need (it loads its entry and
 * `mobius` meanwhile, about a second on a busy machine) and does not keep this process alive
 * while it waits; `run` sends it the job and settles on its answer, its exit or the time limit,
 * then kills it, so nothing the job left running goes on.
 */
export class PlanningChild {
  private readonly child: ChildProcess;
  private stderr = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private onExit: (() => void) | undefined;

  constructor(private readonly limits: PlanningChildLimits) {
    const preload = preloadUrl();
    this.child = spawn(process.execPath, [`--max-old-space-size=${limits.maxHeapMb}`, ...childCommand(), ...(preload === undefined ? [] : [preload])], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: childEnv(),
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      if (this.stderr.length > 2 * limits.stderrTailBytes) this.stderr = this.stderr.slice(-limits.stderrTailBytes);
    });
    // 'close' comes after 'exit' and after stderr's last bytes.
    this.child.on('close', (code, signal) => {
      this.exit = { code, signal };
      this.onExit?.();
    });
    this.child.on('error', () => undefined);
    this.hold(false);
  }

  /** Whether this child (its process, IPC channel and stderr pipe) keeps this process alive. */
  private hold(on: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stderr as unknown as { ref?(): void; unref?(): void } | null];
    for (const h of handles) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  /** Still able to take a job (not exited, IPC open). */
  get usable(): boolean {
    return this.exit === undefined && this.child.connected;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Plans one job: the graph it submitted, or its typed failure. */
  run(request: PlanRequest): Promise<CapturedJob> {
    const child = this.child;
    // A plan under way keeps this process alive like any other pending work.
    this.hold(true);
    return new Promise<CapturedJob>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | undefined, job?: CapturedJob): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.removeAllListeners('message');
        this.kill();
        if (error !== undefined) reject(error);
        else resolve(job!);
      };
      const timer = setTimeout(() => settle(new PlanTimeoutError(this.limits.timeoutMs)), this.limits.timeoutMs);
      child.on('message', (reply: PlanReply) => {
        if (reply?.type === 'planned') {
          try {
            settle(undefined, fromPortableJob(reply.job));
          } catch (e) {
            settle(new MobiusError('INVALID_JOB', `the planning process sent a graph that cannot be read: ${(e as Error).message}`));
          }
        } else if (reply?.type === 'failed') settle(new MobiusError(String(reply.code), String(reply.message)));
      });
      this.onExit = () => settle(new JobExitedError(this.exit!.code, this.exit!.signal, this.stderr.slice(-this.limits.stderrTailBytes).trimEnd()));
      if (this.exit !== undefined) return this.onExit();
      child.send(request, (e) => {
        if (e !== null) settle(new MobiusError('PLAN_FAILED', `could not reach the planning process: ${e.message}`));
      });
    });
  }
}
