import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { events, finishedRecovery, firstCommit, job, pacedWordCountJob, until } from './failover-helpers.js';
import { expectOnlyKilledLost, metricValue, slowOnceMap, workersDeclaredLost } from './busy-helpers.js';

/**
 * Issue 17: one task runs a 10 s synchronous loop on a record. Its worker's heartbeats keep
 * flowing (no worker is declared lost, although the heartbeat timeout is 2 s); the task shows as
 * stalled; with `task.stall.timeout.ms` it alone is failed and recovered; the results are exact.
 */
describe('a task that holds its thread for 10 s: busy, not dead', () => {
  const tmp = tempDir('mobius-busy-stall-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(400_000), '23']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  async function metrics(cluster: Awaited<ReturnType<typeof startCluster>>): Promise<string> {
    return fetch(new URL('/metrics', cluster.url), { headers: { authorization: `Bearer ${cluster.token}` } }).then((r) => r.text());
  }

  async function startJob(name: string, extra: Record<string, number>) {
    const cluster = await startCluster(4, { heartbeatTimeoutMs: 2000 });
    const out = join(tmp.dir, `out-${name}`);
    const marker = join(tmp.dir, `slow-${name}`);
    const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, `ckpt-${name}`), ...extra };
    const file = writeJob(`${name}.ts`, pacedWordCountJob(corpus, out, options, { lines: 4, everyMs: 10 }, undefined, slowOnceMap(marker, 10_000)));
    const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.code).toBe(0);
    return { cluster, out, id: submit.stdout.trim() };
  }

  it('without a stall timeout: heartbeats keep flowing, the task is reported stalled, nothing is recovered, output exact', { timeout: 240_000 }, async () => {
    const { cluster, out, id } = await startJob('report', {});
    try {
      await firstCommit(out);
      // The stalled map task shows in the metrics while its thread is held.
      const stalled = await until('the stalled-task metric', async () => {
        const text = await metrics(cluster);
        return metricValue(text, 'mobius_task_stalled', `job="${id}"`) !== undefined && /^mobius_task_stalled\{[^}]*\} 1$/m.test(text) ? text : undefined;
      }, 60_000);
      expect(stalled).toMatch(/^mobius_task_stalled\{[^}]*vertex="map[^"]*"[^}]*\} 1$/m);
      const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
      expect(done.error).toBeNull();
      expect(done.state).toBe('FINISHED');
      expect(await events(cluster.api, id)).toEqual([]);
      expect(workersDeclaredLost(cluster.coordinator.stderr)).toEqual([]);
      expect((await cluster.api.call<unknown[]>('GET', '/workers')).body).toHaveLength(4);
      const text = await metrics(cluster);
      expect(metricValue(text, 'mobius_task_stalls_total')).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, 'mobius_task_stall_failures_total')).toBe(0);
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  it('with task.stall.timeout.ms 3000: that task alone is failed and recovered single-task, its worker is not lost, output exact', { timeout: 240_000 }, async () => {
    const { cluster, out, id } = await startJob('fail', { 'task.stall.timeout.ms': 3000 });
    try {
      await firstCommit(out);
      const event = await finishedRecovery(cluster.api, id, 0, 'the stall recovery', 120_000);
      expect(event.strategy).toBe('single-task');
      expect(event.failed).toHaveLength(1);
      expect(event.tasks).toEqual(event.failed);
      expect(event.reason).toMatch(/stalled .*no record processed for \d+ ms .*task\.stall\.timeout\.ms 3000/);
      const stalledTask = event.failed[0];
      const after = await job(cluster.api, id);
      expect(after.tasks.find((t) => t.taskId === stalledTask)!.vertex).toMatch(/^map/);

      const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
      expect(done.error).toBeNull();
      expect(done.state).toBe('FINISHED');
      expect((await events(cluster.api, id)).map((e) => e.strategy)).toEqual(['single-task']);
      expectOnlyKilledLost(workersDeclaredLost(cluster.coordinator.stderr), []);
      expect((await cluster.api.call<unknown[]>('GET', '/workers')).body).toHaveLength(4);
      expect(metricValue(await metrics(cluster), 'mobius_task_stall_failures_total')).toBe(1);
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});
