import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { events, finishedRecovery, firstCommit, job, pacedWordCountJob, releasePace, runningJob, until } from './failover-helpers.js';

/**
 * A single-task recovery deploys each restarted task in a request of its own. When several land
 * on a worker that has not run the job yet, their deployments import the job at the same time;
 * each must end up in the worker's one record of the job, or a task runs unreachable: never
 * rewired by the next recovery (its upstream's new attempt finds no receiver, and no checkpoint
 * completes again), never reported in heartbeats.
 */
describe('several restarted tasks deployed at once to a worker new to the job', () => {
  const tmp = tempDir('mobius-recovery-deploy-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(400_000), '23']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  it('are all running and reported there, and a second recovery rewires them: exact output', async () => {
    const cluster = await startCluster(2);
    try {
      const out = join(tmp.dir, 'out');
      const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, 'ckpt'), 'failover.strategy': 'single-task' };
      // Two source tasks of about 4,000 lines each, 2 lines every 10 ms; each holds its last line
      // until the release, after both kills, so the job cannot end before them.
      const released = join(tmp.dir, 'released');
      const file = writeJob('recovery-deploy.ts', pacedWordCountJob(corpus, out, options, { lines: 2, everyMs: 10, until: released, hold: true }));
      const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
      expect(submit.code, submit.stderr).toBe(0);
      const id = submit.stdout.trim();
      await firstCommit(out);

      // A third worker, empty: the scheduler puts restarted tasks where their vertex has fewest tasks.
      cluster.startWorker();
      const fresh = (await cluster.api.waitForWorkers(3)).map((w) => w.id);
      const before = await runningJob(cluster.api, id, 'before the first kill');
      const holders = new Map<string, number>();
      for (const t of before.tasks) holders.set(t.workerId, (holders.get(t.workerId) ?? 0) + 1);
      const victim = [...holders].sort((a, b) => b[1] - a[1])[0][0];
      expect(holders.get(victim)).toBeGreaterThanOrEqual(2);
      const workers = (await cluster.api.workers());
      process.kill(workers.find((w) => w.id === victim)!.pid, 'SIGKILL');

      await finishedRecovery(cluster.api, id, 0, 'the first recovery', 120_000);
      const after = await job(cluster.api, id);
      const newcomer = fresh.find((w) => !holders.has(w))!;
      const placed = after.tasks.filter((t) => t.workerId === newcomer && t.state === 'RUNNING').map((t) => `${t.taskId}@${t.attempt}`);
      // The point of the test: more than one restarted task went to the new worker at once.
      expect(placed.length).toBeGreaterThanOrEqual(2);
      // Its next heartbeat lists every one of them.
      const since = Date.now();
      const reported = await until('a heartbeat of the new worker listing its tasks', async () => {
        const w = (await cluster.api.workers()).find((x) => x.id === newcomer);
        if (w === undefined || w.lastHeartbeat <= since) return undefined;
        const running = w.running.filter((r) => r.jobId === id).map((r) => `${r.taskId}@${r.attempt}`);
        return placed.every((p) => running.includes(p)) || w.lastHeartbeat > since + 3000 ? running : undefined;
      }, 30_000);
      expect(reported.sort()).toEqual(expect.arrayContaining(placed.sort()));

      // Kill the other original worker: its tasks' new attempts must be wired to the ones above.
      // First a checkpoint completes after the recovery (a failure before one would be recovered
      // globally, by design: the single-task rollback has nothing newer to stand on).
      await until('a checkpoint after the first recovery', async () => {
        const j = await runningJob(cluster.api, id, 'after the first recovery');
        return j.lastCheckpoint !== null && j.lastCheckpoint > (after.lastCheckpoint ?? 0) ? true : undefined;
      }, 60_000);
      const other = [...holders.keys()].find((w) => w !== victim)!;
      await runningJob(cluster.api, id, 'before the second kill');
      const now = await cluster.api.workers();
      process.kill(now.find((w) => w.id === other)!.pid, 'SIGKILL');
      cluster.startWorker();
      await finishedRecovery(cluster.api, id, 1, 'the second recovery', 120_000);
      releasePace(released);
      const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
      expect(done.error).toBeNull();
      expect(done.state).toBe('FINISHED');
      const recoveries = await events(cluster.api, id);
      expect(recoveries.length, JSON.stringify(recoveries)).toBe(2);
      expect(recoveries.filter((e) => e.strategy !== 'single-task'), 'recoveries that were not single-task').toEqual([]);
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  }, 300_000);
});
