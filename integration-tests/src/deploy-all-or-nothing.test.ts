import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob, type Api, type JobDetails, type Proc, type WorkerInfo } from './cluster-helpers.js';

/**
 * An unbounded job (a paced source → FileSink, two tasks, one per worker) whose module, when a
 * worker imports it, makes the first worker to claim `gate` wait until the test writes
 * `gate/release`: that worker's deployment times out (`--deploy-timeout-ms`, 5 s here) while the
 * other worker's tasks run.
 * The wait is a top-level await, so the slow worker keeps its heartbeats: it is slow, not lost.
 */
function slowOnOneWorkerJob(out: string, gate: string): string {
  return `
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { FileSink, StreamingContext, type SourceContext } from 'mobius';

const gate = ${JSON.stringify(gate)};
// A worker imports the bundle from its own folder (mobius-worker-…); the coordinator from its data dir.
if (import.meta.url.includes('mobius-worker-')) {
  mkdirSync(gate, { recursive: true });
  let mine = false;
  try {
    closeSync(openSync(gate + '/claimed', 'wx'));
    mine = true;
  } catch {
    // another worker is the slow one
  }
  if (mine) {
    writeFileSync(gate + '/slow-pid', String(process.pid));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (!existsSync(gate + '/release')) return;
        clearInterval(t);
        resolve();
      }, 20);
    });
    writeFileSync(gate + '/imported', '');
  }
}

class Paced {
  private n = 0;
  async fetch(sc: SourceContext<number>): Promise<void> {
    sc.collect(this.n++);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
ctx
  .source<number>(new Paced())
  .map((n: number) => ({ n }))
  .sink(new FileSink<{ n: number }>({ dir: ${JSON.stringify(out)}, bufferLines: 1 }));
await ctx.execute('deploy_all_or_nothing');
`;
}


/** Polls the fs (no event to wait on across processes) until `path` exists. */
async function fileAppears(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once GET /workers shows a heartbeat newer than `since` from every worker: what they reported then. */
async function nextHeartbeats(api: Api, since: number, timeoutMs = 30_000): Promise<WorkerInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workers = await api.workers();
    if (workers.every((w) => w.lastHeartbeat > since)) return workers;
    if (Date.now() > deadline) throw new Error(`no heartbeat from every worker within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves when the process logs (pino, on stderr) a line matching `pattern`. */
function logged(proc: Proc, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!pattern.test(proc.stderr)) return;
      proc.child.stderr!.off('data', check);
      resolve();
    };
    proc.child.stderr!.on('data', check);
    check();
  });
}

const inProgress = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.inprogress')) : []);

/** Long enough for the fast worker to import the job and start its task on a loaded machine. */
const DEPLOY_TIMEOUT_MS = 5000;

describe('deploy is all or nothing (cluster)', () => {
  const tmp = tempDir('mobius-deploy-');
  afterAll(() => tmp.remove());

  it('a deployment that times out on one worker leaves no orphan task: the started tasks stop, the late one never starts, no .inprogress file stays', async () => {
    const cluster = await startCluster(2, { slots: 1, coordinatorArgs: ['--deploy-timeout-ms', String(DEPLOY_TIMEOUT_MS)] });
    try {
      const out = join(tmp.dir, 'out');
      const gate = join(tmp.dir, 'gate');
      const file = writeJob('slow-deploy.ts', slowOnOneWorkerJob(out, gate));
      const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
      expect(submit.code, submit.stderr).toBe(0);
      const id = submit.stdout.trim();

      // One worker is stuck importing the job; the other runs its task, writing in progress.
      await fileAppears(join(gate, 'slow-pid'), 60_000);
      const slowPid = Number(readFileSync(join(gate, 'slow-pid'), 'utf8'));
      const slow = cluster.workers.find((p) => p.child.pid === slowPid)!;
      expect(slow).toBeDefined();
      const deadline = Date.now() + 60_000;
      while (inProgress(out).length === 0) {
        if (Date.now() > deadline) throw new Error('the fast worker wrote no in-progress file within 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }

      // The slow worker's deployment times out: the job fails (no checkpoints: nothing to restart from).
      const failed = await cluster.api.waitForJob(id, (j: JobDetails) => j.state === 'FAILED', 120_000);
      expect(failed.error).toMatch(new RegExp(`deploying to worker .* timed out after ${DEPLOY_TIMEOUT_MS} ms`));
      // Within a heartbeat the fast worker runs nothing of the job, and its sink aborted its file.
      const afterFailure = await nextHeartbeats(cluster.api, Date.now());
      expect(afterFailure.flatMap((w) => w.running.filter((r) => r.jobId === id))).toEqual([]);
      expect(inProgress(out)).toEqual([]);

      // The slow worker's import completes now: the cancelled attempt must not start.
      const refused = logged(slow, /were cancelled before this deployment completed/);
      writeFileSync(join(gate, 'release'), '');
      await fileAppears(join(gate, 'imported'), 60_000);
      // Either the worker refuses the late deployment, or (the bug) its tasks show up as running.
      let watching = true;
      const orphans = (async (): Promise<void> => {
        while (watching) {
          if ((await cluster.api.workers()).some((w) => w.running.some((r) => r.jobId === id))) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.race([refused, orphans]);
      watching = false;
      const settled = Date.now();
      const later = await nextHeartbeats(cluster.api, settled);
      expect(later.flatMap((w) => w.running.filter((r) => r.jobId === id))).toEqual([]);
      expect(slow.stderr).toMatch(/"code":"DEPLOY_FENCED".*"msg":"deployment refused"/);
      expect(inProgress(out)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  }, 240_000);
});
