import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { repoRoot, run } from './helpers.js';

export const clusterCli = join(repoRoot, 'apps/cluster/dist/cli.js');

/** A process of the cluster, with its output kept for assertions. */
export interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [clusterCli, ...args], { cwd: repoRoot, env: { ...process.env, MOBIUS_LOG_LEVEL: process.env.MOBIUS_TEST_LOG_LEVEL ?? 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.on('data', (d: Buffer) => (proc.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (proc.stderr += d.toString()));
  // MOBIUS_TEST_LOG_DIR keeps every process's log in a file of its own, to read after a failed run.
  const logDir = process.env.MOBIUS_TEST_LOG_DIR;
  if (logDir !== undefined) {
    mkdirSync(logDir, { recursive: true });
    void proc.exited.then(() => writeFileSync(join(logDir, `${args[0]}-${child.pid}.log`), proc.stderr));
  }
  return proc;
}

/** Resolves with the first stdout line matching the pattern; rejects if the process exits first. */
export function waitForLine(proc: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.child.stdout! });
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${proc.stderr.slice(-2000)}`)), timeoutMs);
    lines.on('line', (line) => {
      const m = pattern.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        lines.close();
        resolve(m);
      }
    });
    void proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code ?? signal}) before printing ${pattern}; stderr: ${proc.stderr.slice(-2000)}`));
    });
  });
}

export async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

export class Api {
  constructor(
    readonly url: string,
    readonly token: string | undefined,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown, token = this.token): Promise<{ status: number; body: T }> {
    const res = await fetch(new URL(path, this.url), {
      method,
      headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /** Polls a job until its state satisfies the predicate (network state: polling is the only way). */
  async waitForJob(id: string, done: (job: JobDetails) => boolean, timeoutMs = 120_000): Promise<JobDetails> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.call<JobDetails>('GET', `/jobs/${id}`);
      if (done(body)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(body).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** GET /workers: the registered workers, with what each reported in its last heartbeat. */
  async workers(): Promise<WorkerInfo[]> {
    return (await this.call<WorkerInfo[]>('GET', '/workers')).body;
  }

  async waitForWorkers(n: number, timeoutMs = 30_000): Promise<WorkerInfo[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await this.workers();
      if (body.length === n) return body;
      if (Date.now() > deadline) throw new Error(`expected ${n} workers, have ${body.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface JobDetails {
  id: string;
  name: string;
  state: string;
  error: string | null;
  tasks: { taskId: string; vertex: string; index: number; state: string; workerId: string; recordsIn: number }[];
}

export interface WorkerInfo {
  id: string;
  address: string;
  slots: number;
  pid: number;
  /** When the coordinator last heard from the worker (ms since the epoch). */
  lastHeartbeat: number;
  /** The task attempts the worker said it runs, in its last heartbeat. */
  running: { jobId: string; taskId: string; attempt: number }[];
  /** The tasks the coordinator placed there. */
  tasks: { jobId: string; taskId: string }[];
}

/** A coordinator and N workers as separate processes, on ephemeral loopback ports. */
export async function startCluster(
  workers: number,
  options: { token?: string; heartbeatTimeoutMs?: number; slots?: number; transport?: string; curveKeys?: string; workerEnv?: NodeJS.ProcessEnv; coordinatorArgs?: readonly string[] } = {},
) {
  const token = options.token ?? randomUUID();
  const coordinator = start(['coordinator', '--port', '0', '--http-port', '0', '--token', token, '--heartbeat-timeout-ms', String(options.heartbeatTimeoutMs ?? 2000), ...(options.coordinatorArgs ?? [])]);
  const ready = await waitForLine(coordinator, /ready: (\S+) control (\S+)/);
  const [, url, control] = ready;
  const procs: Proc[] = [];
  const startWorker = (): Proc => {
    const args = ['worker', '--coordinator', control, '--token', token, '--slots', String(options.slots ?? 4)];
    if (options.transport !== undefined) args.push('--transport', options.transport);
    if (options.curveKeys !== undefined) args.push('--curve-keys', options.curveKeys);
    const w = start(args, options.workerEnv);
    procs.push(w);
    return w;
  };
  for (let i = 0; i < workers; i++) startWorker();
  const api = new Api(url, token);
  await api.waitForWorkers(workers);
  return { coordinator, workers: procs, url, control, token, api, startWorker, stop: () => stopAll([...procs, coordinator]) };
}

/** Writes a job module under integration-tests/.tmp (where 'mobius' resolves) and returns its path. */
export function writeJob(name: string, source: string): string {
  const dir = join(repoRoot, 'integration-tests/.tmp', randomUUID().slice(0, 8));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

/** The seed's word count writing each sink task's final counts into its own file under outDir. */
export function wordCountJob(input: string, outDir: string, parallelism: number, extra = ''): string {
  return `
import { mkdirSync, writeFileSync } from 'node:fs';
import { StreamingContext, type RuntimeContext, type SinkFunction } from 'mobius';

class CountsFile implements SinkFunction<[string, number]> {
  private counts = new Map<string, number>();
  private path = '';
  open(ctx: RuntimeContext): void {
    this.counts = new Map();
    this.path = ${JSON.stringify(outDir)} + '/part-' + ctx.taskIndex + '-' + process.pid + '-' + ctx.attempt;
  }
  sink(pair: [string, number]): void {
    if ((this.counts.get(pair[0]) ?? 0) < pair[1]) this.counts.set(pair[0], pair[1]);
  }
  close(): void {
    mkdirSync(${JSON.stringify(outDir)}, { recursive: true });
    writeFileSync(this.path, [...this.counts].map(([w, c]) => w + '\\t' + c).join('\\n'));
  }
}

const ctx = StreamingContext.builder().option('parallelism.default', ${parallelism}).build();
ctx
  .readTextFile(${JSON.stringify(input)})
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  .map((w: string): [string, number] => [w, 1])
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .filter((p) => !p[0].includes('ray'))
  .sink(new CountsFile());
${extra}
await ctx.execute('cluster_word_count');
`;
}

/** Merges the per-task count files (highest count per word). */
export function readCounts(outDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of readdirSync(outDir)) {
    const text = readFileSync(join(outDir, f), 'utf8');
    if (text === '') continue;
    for (const line of text.split('\n')) {
      const [w, c] = line.split('\t');
      if ((counts.get(w) ?? 0) < Number(c)) counts.set(w, Number(c));
    }
  }
  return counts;
}

/**
 * Submits the word count (wordCountJob) with --wait and checks what every cluster word-count
 * test checks: the job finished and its two reduce tasks ran on different workers.
 */
export async function submitWordCountOnCluster(cluster: { url: string; token: string; api: Api }, input: string, outDir: string): Promise<JobDetails> {
  const job = writeJob('word-count.ts', wordCountJob(input, outDir, 2));
  const submit = await run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
  expect(submit.stderr).toBe('');
  expect(submit.code).toBe(0);
  const details = (await cluster.api.call<JobDetails>('GET', `/jobs/${submit.stdout.trim()}`)).body;
  expect(details.state).toBe('FINISHED');
  const reduceTasks = details.tasks.filter((t) => t.vertex === 'reduce-4');
  expect(reduceTasks).toHaveLength(2);
  expect(reduceTasks[0].workerId).not.toBe(reduceTasks[1].workerId);
  return details;
}
