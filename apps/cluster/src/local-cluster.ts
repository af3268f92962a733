import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@mobius/interface';
import { ClusterClient } from './client.js';

export interface LocalClusterOptions {
  readonly workers: number;
  readonly port: number;
  readonly httpPort: number;
  readonly token?: string;
  readonly slots?: number;
  readonly transport?: string;
  /** `--task-threads` of every worker (default: theirs, one per slot). */
  readonly taskThreads?: number;
  readonly heartbeatTimeoutMs?: number;
  /** Passed to the coordinator as `--deploy-timeout-ms`. */
  readonly deployTimeoutMs?: number;
  /** CURVE key pair file for the workers' data channels. */
  readonly curveKeys?: string;
  /** Path of the mobius-cluster CLI script to start children with. */
  readonly cliPath: string;
  readonly logger: Logger;
}

/**
 * `mobius-cluster local`: a coordinator and N workers as child processes in the foreground.
 * A worker that dies is started again; SIGINT/SIGTERM stop them all.
 */
export class LocalCluster {
  private coordinator: ChildProcess | undefined;
  private readonly workers = new Set<ChildProcess>();
  private stopping = false;
  url = '';
  private control = '';
  private readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;

  constructor(private readonly options: LocalClusterOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Starts everything; resolves with the HTTP URL once all workers registered. */
  async start(): Promise<string> {
    const o = this.options;
    const args = ['coordinator', '--host', '127.0.0.1', '--port', String(o.port), '--http-port', String(o.httpPort)];
    if (o.heartbeatTimeoutMs !== undefined) args.push('--heartbeat-timeout-ms', String(o.heartbeatTimeoutMs));
    if (o.deployTimeoutMs !== undefined) args.push('--deploy-timeout-ms', String(o.deployTimeoutMs));
    this.coordinator = spawn(process.execPath, [o.cliPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: this.childEnv() });
    this.coordinator.on('exit', (code, signal) => {
      if (this.stopping) return;
      o.logger.error({ code, signal }, 'the coordinator exited: stopping the local cluster');
      void this.stop(1);
    });
    const ready = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: this.coordinator!.stdout! });
      lines.on('line', (line) => {
        const m = /ready: (\S+) control (\S+)/.exec(line);
        if (m !== null) {
          this.control = m[2];
          resolve(m[1]);
        } else process.stdout.write(`${line}\n`);
      });
      this.coordinator!.once('exit', () => reject(new Error('the coordinator exited before it was ready')));
    });
    this.url = ready;
    for (let i = 0; i < o.workers; i++) this.startWorker(0);
    await this.waitForWorkers(o.workers);
    return this.url;
  }

  /**
   * The children's environment: the token goes in MOBIUS_TOKEN, never on their command lines,
   * where `ps` and /proc/<pid>/cmdline show it to every user of the machine (the environment
   * of a process is readable by its owner only).
   */
  private childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MOBIUS_TOKEN;
    delete env.MOBIUS_TOKEN_FILE;
    if (this.options.token !== undefined) env.MOBIUS_TOKEN = this.options.token;
    return env;
  }

  private startWorker(restarts: number): void {
    const o = this.options;
    const args = ['worker', '--coordinator', this.control];
    if (o.slots !== undefined) args.push('--slots', String(o.slots));
    if (o.transport !== undefined) args.push('--transport', o.transport);
    if (o.curveKeys !== undefined) args.push('--curve-keys', o.curveKeys);
    if (o.taskThreads !== undefined) args.push('--task-threads', String(o.taskThreads));
    const started = Date.now();
    const child = spawn(process.execPath, [o.cliPath, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: this.childEnv() });
    this.workers.add(child);
    child.on('exit', (code, signal) => {
      this.workers.delete(child);
      if (this.stopping) return;
      // Back off when a worker keeps dying right after start; reset once it ran a while.
      const next = Date.now() - started > 10_000 ? 0 : restarts + 1;
      const delay = Math.min(5000, 100 * 2 ** Math.min(next, 6));
      o.logger.warn({ workerPid: child.pid, code, signal, restartInMs: delay }, 'worker exited: starting it again');
      setTimeout(() => {
        if (!this.stopping) this.startWorker(next);
      }, delay);
    });
  }

  private async waitForWorkers(n: number): Promise<void> {
    const client = new ClusterClient(this.url, this.options.token);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const workers = await client.call<unknown[]>('GET', '/workers').catch(() => []);
      if (workers.length >= n) return;
      if (this.stopping) throw new Error('the local cluster stopped while starting');
      if (Date.now() > deadline) throw new Error(`only ${workers.length} of ${n} workers registered within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops every child (SIGTERM, then SIGKILL after 5 s) and resolves the exit code. */
  async stop(code = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const children = [...this.workers, ...(this.coordinator !== undefined ? [this.coordinator] : [])].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    this.resolveExit(code);
  }

  wait(): Promise<number> {
    return this.exited;
  }
}
