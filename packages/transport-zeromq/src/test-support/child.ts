import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Inside the package's node_modules so the child resolves zeromq, msgpackr and @mobius/interface.
const dir = join(pkg, 'node_modules', '.cache', 'mobius-zmq-test');
let bundled: Promise<string> | undefined;

/** Bundles the package source once per test process; returns the path of the ESM bundle. */
export function bundle(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(dir, { recursive: true });
    const outfile = join(dir, `transport-${process.pid}.mjs`);
    await build({ entryPoints: [join(pkg, 'src', 'index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'silent' });
    return outfile;
  })();
  return bundled;
}

/** Removes this test process's bundle (call from afterAll). */
export async function removeBundle(): Promise<void> {
  if (bundled === undefined) return;
  const file = await bundled.catch(() => undefined);
  bundled = undefined;
  if (file !== undefined) rmSync(file, { force: true });
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A running child: its lines of stdout as they come, and its end. */
export interface Child {
  readonly pid: number;
  line(pred: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  readonly done: Promise<ChildResult>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Runs `body` (ESM, with the package's exports in scope as `T`) in a child node process. The
 * child is killed after `timeoutMs`; `done` then reports the signal.
 */
export async function child(body: string, timeoutMs = 20_000, name = 'child'): Promise<Child> {
  const transport = await bundle();
  const file = join(dir, `${name}-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import * as T from ${JSON.stringify(transport)};\n${body}\n`);
  const started = Date.now();
  const proc = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let waiters: (() => void)[] = [];
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<ChildResult>((resolve) => {
    proc.on('exit', (code, signal) => {
      clearTimeout(killer);
      rmSync(file, { force: true });
      const w = waiters;
      waiters = [];
      for (const f of w) f();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  let exited = false;
  void done.then(() => (exited = true));
  return {
    pid: proc.pid ?? -1,
    done,
    kill: (signal = 'SIGKILL') => void proc.kill(signal),
    async line(pred, what, lineTimeoutMs = 10_000) {
      const deadline = Date.now() + lineTimeoutMs;
      for (;;) {
        const found = stdout.split('\n').find(pred);
        if (found !== undefined) return found;
        if (exited) throw new Error(`child exited before printing ${what}; stdout: ${stdout}; stderr: ${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for the child to print ${what}; stdout: ${stdout}; stderr: ${stderr}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}
