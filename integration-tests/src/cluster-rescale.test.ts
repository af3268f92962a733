import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { events, firstCommit, job, pacedWordCountJob, releasePace, until, type FailoverJob } from './failover-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { LoadSampler, rescaleEvent, startPacedJob, type RescaleEventBody } from './rescale-helpers.js';

/*
 * Issue 12 on the cluster: the paced word count into the exactly-once FileSink (checkpoints
 * every 200 ms) on a coordinator and four workers; the keyed reduce is rescaled 2 → 3 → 1 while
 * it runs. The committed output must equal the reference exactly, and every task of the other
 * operators must keep its worker process and attempt, its records-processed count never going
 * backwards nor standing still for longer than the rescale's pause (plus the time the figures
 * take to reach the coordinator: a heartbeat, HEARTBEAT_MS / 4).
 */
const HEARTBEAT_MS = 1000;
/** How late a task's count can show on GET /jobs/:id: its thread's report (200 ms), a heartbeat (250 ms), the poll. */
const REPORT_SLACK_MS = 1000;

/** Waits for the job to end and expects FINISHED; a job that does not end shows its tasks and the coordinator's warnings. */
async function expectFinished(cluster: Awaited<ReturnType<typeof startCluster>>, id: string): Promise<void> {
  const done = await cluster.api.waitForJob(id, (j) => ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state), 120_000).catch(async (e: unknown) => {
    const tasks = (await job(cluster.api, id)).tasks.map((t) => `${t.taskId} ${t.state} attempt ${t.attempt} on ${t.workerId}: ${t.recordsProcessed} records`);
    const warnings = cluster.coordinator.stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    throw new Error(`${(e as Error).message.slice(0, 200)}\ntasks:\n${tasks.join('\n')}\ncoordinator warnings:\n${warnings.slice(-20).join('\n')}`);
  });
  expect(done.state).toBe('FINISHED');
}

describe('live rescaling on a coordinator and four workers', () => {
  const tmp = tempDir('mobius-cluster-rescale-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  const clusters: { stop(): Promise<void> }[] = [];
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(3_000_000), '13']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(async () => {
    for (const c of clusters) await c.stop();
    tmp.remove();
  });

  for (const backend of ['memory', 'level'] as const) {
    it(`rescales the reduce 2 → 3 → 1 while the job runs (${backend} state): exact output, the other operators untouched`, { timeout: 300_000 }, async () => {
      const cluster = await startCluster(4, { heartbeatTimeoutMs: HEARTBEAT_MS });
      clusters.push(cluster);
      const { id, out, released } = await startPacedJob(cluster, tmp.dir, corpus, `rescale-${backend}`, { 'state.backend': backend });
      await firstCommit(out);
      const pids = new Map((await cluster.api.workers()).map((w) => [w.id, w.pid]));
      const before = await job(cluster.api, id);
      expect(before.state).toBe('RUNNING');
      const reduceVertex = before.tasks.find((t) => t.vertex.startsWith('reduce'))!.vertex;
      const untouched = before.tasks.filter((t) => t.vertex !== reduceVertex);
      expect(before.tasks.filter((t) => t.vertex === reduceVertex)).toHaveLength(2);
      const sampler = new LoadSampler(cluster.api, id);
      sampler.start();

      // 2 → 3 through the CLI, waiting for its event; a second request meanwhile is refused (409).
      const up = run(process.execPath, [clusterCli, 'rescale', id, '--operator', 'reduce', '--parallelism', '3', '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
      const conflict = await until('the first rescale to start', async () => {
        const r = await cluster.api.call<{ error: { code: string } }>('POST', `/jobs/${id}/rescale`, { operator: 'reduce', parallelism: 2 });
        return r.status === 409 ? r : undefined;
      });
      expect(conflict.body.error.code).toBe('RESCALE_CONFLICT');
      const upRun = await up;
      expect(upRun.stderr).toBe('');
      expect(upRun.code).toBe(0);
      const upEvent = JSON.parse(upRun.stdout) as RescaleEventBody;
      expect(upEvent).toMatchObject({ kind: 'rescale', operator: 'reduce', from: 2, to: 3, trigger: 'user' });
      expect(upEvent.failed).toBeUndefined();
      expect(upEvent.keyGroupsMoved).toBeGreaterThan(0);
      expect(upEvent.bytesMoved).toBeGreaterThan(0);
      expect(upEvent.pausedMs).toBeLessThanOrEqual(upEvent.durationMs);
      const mid = await job(cluster.api, id);
      expect(mid.tasks.filter((t) => t.vertex === reduceVertex).map((t) => t.index).sort()).toEqual([0, 1, 2]);

      // 3 → 1 through the HTTP API: 202 with the rescale's id, then its event.
      const down = await cluster.api.call<{ id: string }>('POST', `/jobs/${id}/rescale`, { operator: 'reduce', parallelism: 1 });
      expect(down.status).toBe(202);
      const downEvent = await rescaleEvent(cluster.api, id, down.body.id);
      expect(downEvent).toMatchObject({ from: 3, to: 1 });
      expect(downEvent.failed).toBeUndefined();
      sampler.stop();
      await sampler.stopped;

      const after = await job(cluster.api, id);
      expect(after.tasks.filter((t) => t.vertex === reduceVertex).map((t) => t.index)).toEqual([0]);
      for (const t of untouched) {
        const now = after.tasks.find((a) => a.taskId === t.taskId)!;
        expect(now.attempt, `${t.taskId} restarted`).toBe(t.attempt);
        expect(now.workerId, `${t.taskId} moved`).toBe(t.workerId);
      }
      const workers = await cluster.api.workers();
      for (const t of untouched) expect(workers.find((w) => w.id === t.workerId)?.pid, `the worker of ${t.taskId}`).toBe(pids.get(t.workerId));
      // Counts never go backwards, and stand still no longer than the longer pause (plus reporting).
      const pause = Math.max(upEvent.pausedMs, downEvent.pausedMs);
      for (const t of untouched) {
        const { backwards, longestStallMs } = sampler.progressOf(t.taskId);
        expect(backwards, `${t.taskId} went backwards`).toEqual([]);
        expect(longestStallMs, `${t.taskId} stood still`).toBeLessThanOrEqual(pause + REPORT_SLACK_MS);
      }
      expect((await events(cluster.api, id)).filter((e) => e.kind !== 'rescale')).toEqual([]);

      // A sink can be rescaled too: the exactly-once FileSink 1 → 2 (its part files go on being committed once).
      const sinkVertex = before.tasks.find((t) => t.vertex.startsWith('sink'))!.vertex;
      const sinkUp = await cluster.api.call<{ id: string }>('POST', `/jobs/${id}/rescale`, { operator: sinkVertex, parallelism: 2 });
      expect(sinkUp.status).toBe(202);
      expect(await rescaleEvent(cluster.api, id, sinkUp.body.id)).toMatchObject({ vertex: sinkVertex, from: 1, to: 2, keyGroupsMoved: 0 });
      expect((await job(cluster.api, id)).tasks.filter((t) => t.vertex === sinkVertex)).toHaveLength(2);

      releasePace(released);
      await expectFinished(cluster, id);
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    });
  }

  it('refuses bad rescale requests with clear errors: unknown operator, parallelism below 1 or above job.max-parallelism, not enough free slots, a source', { timeout: 180_000 }, async () => {
    const cluster = await startCluster(1, { heartbeatTimeoutMs: HEARTBEAT_MS, slots: 3 });
    clusters.push(cluster);
    const { id, released } = await startPacedJob(cluster, tmp.dir, corpus, 'rescale-refused', {});
    await cluster.api.waitForJob(id, (j) => j.state === 'RUNNING' && j.tasks.every((t) => t.state === 'RUNNING'));
    const refuse = async (body: unknown) => (await cluster.api.call<{ error: { code: string; message: string } }>('POST', `/jobs/${id}/rescale`, body));
    const unknown = await refuse({ operator: 'no-such-operator', parallelism: 2 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('no-such-operator');
    expect((await refuse({ operator: 'reduce', parallelism: 0 })).status).toBe(400);
    expect((await refuse({ operator: 'reduce' })).status).toBe(400);
    const max = await refuse({ operator: 'reduce', parallelism: 129 });
    expect(max.status).toBe(400);
    expect(max.body.error.message).toContain('128');
    // Three slots, the job holds two or three: a reduce at 5 needs more than are free.
    const slots = await refuse({ operator: 'reduce', parallelism: 5 });
    expect(slots.status).toBe(409);
    expect(slots.body.error.code).toBe('RESCALE_NO_SLOTS');
    // Both numbers are named (the job may hold spare slots it spread its tasks over: they count as used).
    const [, needed, free] = /needs (\d+) more slot\(s\), and (\d+) are free/.exec(slots.body.error.message) ?? [];
    expect(Number(needed)).toBeGreaterThan(Number(free));
    expect((await refuse({ operator: 'source', parallelism: 3 })).body.error.code).toBe('RESCALE_UNSUPPORTED');
    const cli = await run(process.execPath, [clusterCli, 'rescale', id, '--operator', 'reduce', '--url', cluster.url, '--token', cluster.token]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('--parallelism');
    expect((await job(cluster.api, id)).state).toBe('RUNNING');
    releasePace(released);
    expect((await cluster.api.waitForJob(id, (j) => j.state !== 'RUNNING', 180_000)).state).toBe('FINISHED');
  });

  it('a worker SIGKILLed during a rescale: the job ends exact, at the old or the new parallelism, and the event log says which and why', { timeout: 300_000 }, async () => {
    const cluster = await startCluster(4, { heartbeatTimeoutMs: HEARTBEAT_MS });
    clusters.push(cluster);
    const { id, out, released } = await startPacedJob(cluster, tmp.dir, corpus, 'rescale-kill', { 'state.backend': 'level' });
    await firstCommit(out);
    const before: FailoverJob = await job(cluster.api, id);
    const reduceVertex = before.tasks.find((t) => t.vertex.startsWith('reduce'))!.vertex;
    // The victim runs a reduce task: its snapshot at the rescale barrier, or the new task, dies with it.
    const victim = before.tasks.find((t) => t.vertex === reduceVertex)!.workerId;
    const pid = (await cluster.api.workers()).find((w) => w.id === victim)!.pid;
    const accepted = await cluster.api.call<{ id: string }>('POST', `/jobs/${id}/rescale`, { operator: 'reduce', parallelism: 3 });
    expect(accepted.status).toBe(202);
    process.kill(pid, 'SIGKILL');
    cluster.startWorker();
    const event = await rescaleEvent(cluster.api, id, accepted.body.id);
    const recovered = await until('the recovery to finish', async () => {
      const list = await events(cluster.api, id);
      const r = list.find((e) => e.kind === 'recovery' && e.durationMs !== null);
      return r;
    });
    expect(recovered.strategy).toBe('global');
    expect(recovered.reason).toMatch(/rescale/);
    // Either way the event says at which parallelism the job went on, and why.
    expect([2, 3]).toContain(event.to);
    if (event.failed !== undefined) expect(event.failed).toMatch(new RegExp(`restores globally at parallelism ${event.to}`));
    const running = await cluster.api.waitForJob(id, (j) => j.state === 'RUNNING' && j.tasks.every((t) => t.state === 'RUNNING'));
    expect(running.tasks.filter((t) => t.vertex === reduceVertex)).toHaveLength(event.to);
    releasePace(released);
    await expectFinished(cluster, id);
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });

  it('the autoscaler on the cluster: every evaluation is an event on GET /jobs/:id/events; an inconsistent autoscaler config is a 400', { timeout: 180_000 }, async () => {
    const cluster = await startCluster(1, { heartbeatTimeoutMs: HEARTBEAT_MS });
    clusters.push(cluster);
    const { id, released } = await startPacedJob(cluster, tmp.dir, corpus, 'autoscaler-events', { 'autoscaler.enabled': true, 'autoscaler.interval.ms': 300 });
    const evaluations = await until('two autoscaler evaluations', async () => {
      const list = (await cluster.api.call<{ kind: string; time: number; reason: string; taken: boolean }[]>('GET', `/jobs/${id}/events`)).body.filter((e) => e.kind === 'autoscaler');
      return list.length >= 2 ? list : undefined;
    });
    for (const e of evaluations) expect(typeof e.reason).toBe('string');
    expect(evaluations[1].time).toBeGreaterThanOrEqual(evaluations[0].time);
    releasePace(released);
    await expectFinished(cluster, id);

    const file = writeJob('autoscaler-bad.ts', pacedWordCountJob(corpus, join(tmp.dir, 'out-bad'), { 'autoscaler.target-utilization': 0.5, 'autoscaler.target-utilization.boundary': 0.6 }, 'unpaced'));
    const bad = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\(400\).*autoscaler\.target-utilization\.boundary/);
  });
});
