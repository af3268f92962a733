// Child processes of the benchmarks (cluster-bench.mjs, failover-bench.mjs; mobius run for threads-bench.mjs and nexmark-bench.mjs): each one is
// tracked with the tail of its output, so every one is stopped at the end, and a line it printed
// can be waited for; plus the coordinator's HTTP API.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const clusterCli = join(here, '..', 'apps', 'cluster', 'dist', 'cli.js');
export const mobiusCli = join(here, '..', 'apps', 'embedded', 'dist', 'cli.js');

/**
 * Runs a job module with `mobius run <job> ...args` (MOBIUS_BENCH_REPORT=1) and resolves with the
 * JSON of its last stdout line: how the benchmarks' job modules report their figures.
 */
export function mobiusRunReport(jobPath, args, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mobiusCli, 'run', jobPath, ...args], {
      env: { ...process.env, MOBIUS_BENCH_REPORT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`mobius run ${what} exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** Every child process started and still running. */
export const children = new Set();

/** Tracks a child; with `fullStderr`, its whole stderr is kept too (entry.fullStderr). */
export function track(child, name, { fullStderr = false } = {}) {
  const entry = { child, name, stdout: '', stderr: '', fullStderr: '' };
  entry.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', () => {});
  child.stdout?.on('data', (d) => (entry.stdout = (entry.stdout + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d) => {
    entry.stderr = (entry.stderr + d.toString()).slice(-20_000);
    if (fullStderr) entry.fullStderr += d.toString();
  });
  children.add(entry);
  void entry.exited.then(() => children.delete(entry));
  return entry;
}

/** Starts `mobius-cluster ARGS` as a tracked child. */
export function startCli(name, args, { nodeArgs = [], logLevel = 'warn', fullStderr = false } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, clusterCli, ...args], {
    cwd: here,
    env: { ...process.env, MOBIUS_LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, name, { fullStderr });
}

/** SIGTERM, then SIGKILL after 5 s, for every child (or the given ones) still running. */
export async function stopChildren(entries = [...children], log = console.log) {
  await Promise.all(
    entries.map(async (e) => {
      if (e.child.exitCode !== null || e.child.signalCode !== null) return;
      try {
        e.child.kill('SIGTERM');
      } catch {}
      const timer = setTimeout(() => {
        log(`${e.name} (pid ${e.child.pid}) ignored SIGTERM for 5 s: SIGKILL`);
        try {
          e.child.kill('SIGKILL');
        } catch {}
      }, 5000);
      await e.exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * Resolves with the first stdout line of a child matching the pattern (also a line printed before
 * this call: the output is kept); rejects if the child exits first.
 */
export function waitForLine(entry, pattern, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of entry.stdout.split('\n')) {
        const m = pattern.exec(line);
        if (m !== null) {
          finish();
          resolve(m);
          return;
        }
      }
    };
    const finish = () => {
      clearTimeout(timer);
      entry.child.stdout.off('data', check);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${entry.name}: no line matching ${pattern} within ${timeoutMs} ms; stderr: ${entry.stderr.slice(-2000)}`));
    }, timeoutMs);
    entry.child.stdout.on('data', check);
    void entry.exited.then(({ code, signal }) => {
      finish();
      reject(new Error(`${entry.name} exited (${code ?? signal}) before printing ${pattern}; stderr: ${entry.stderr.slice(-2000)}`));
    });
    check();
  });
}

/** A call to the coordinator's HTTP API; throws on a status of 300 or more. */
export async function api(url, token, method, path, body) {
  const res = await fetch(new URL(path, url), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text === '' ? undefined : JSON.parse(text);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 2000)}`);
  return parsed;
}

/** CPU seconds (user + system, every thread) of a process so far, from /proc (Linux); undefined elsewhere. */
const CLK_TCK = 100;
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}
