import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { randomUUID } from 'node:crypto';
import { Api, clusterCli, start, startCluster, stopAll, waitForLine, writeJob, type Proc } from './cluster-helpers.js';
import { events, expectOnlyVictimRolledBack, finishedRecovery, firstCommit, job, pacedWordCountJob, releasePace, role, until, type FailoverJob, type RecoveryEvent } from './failover-helpers.js';

const HEARTBEAT_MS = 1000;

describe('single-task failover on a coordinator and four workers: only the failed tasks roll back, results stay exact', () => {
  const tmp = tempDir('mobius-failover-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(3_000_000), '11']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  /**
   * Starts the cluster and the job; returns them once the first checkpoint committed. The job is
   * paced (it runs for as long as the test injects failures) until `finish` releases it.
   */
  async function startJob(name: string, pace: { lines: number; everyMs: number }, extra: Record<string, string | number> = {}) {
    const cluster = await startCluster(4, { heartbeatTimeoutMs: HEARTBEAT_MS });
    const out = join(tmp.dir, `out-${name}`);
    const released = join(tmp.dir, `released-${name}`);
    const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, `ckpt-${name}`), 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 20, 'restart.delay.ms': 50, ...extra };
    const file = writeJob(`${name}.ts`, pacedWordCountJob(corpus, out, options, { ...pace, until: released }));
    const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.stderr).toBe('');
    expect(submit.code).toBe(0);
    const id = submit.stdout.trim();
    await firstCommit(out);
    return { cluster, out, id, released };
  }

  /** Kills the worker with SIGKILL, starts a replacement (the supervisor's part) and waits for the recovery event. */
  async function killAndRecover(c: Awaited<ReturnType<typeof startJob>>, victimId: string, eventsBefore: number): Promise<{ before: FailoverJob; event: RecoveryEvent }> {
    const { cluster, id } = c;
    const before = await job(cluster.api, id);
    expect(before.state).toBe('RUNNING');
    const workers = (await cluster.api.call<{ id: string; pid: number }[]>('GET', '/workers')).body;
    const victim = workers.find((w) => w.id === victimId)!;
    process.kill(victim.pid, 'SIGKILL');
    cluster.startWorker();
    const event = await finishedRecovery(cluster.api, id, eventsBefore).catch(async (e: unknown) => {
      // The coordinator's warnings and errors say where the recovery stopped.
      const warnings = cluster.coordinator.stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
      throw new Error(`${(e as Error).message}; events ${JSON.stringify(await events(cluster.api, id))}; coordinator warnings:\n${warnings.slice(-30).join('\n')}`);
    });
    return { before, event };
  }

  /** The failures are over: the job reads the rest of its input at full speed; checks it ends exact. */
  async function finish(c: { cluster: Awaited<ReturnType<typeof startJob>>['cluster']; out: string; id: string; released: string }): Promise<FailoverJob> {
    releasePace(c.released);
    const done = await c.cluster.api.waitForJob(c.id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('FINISHED');
    expect(readdirSync(c.out).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(exactlyOnceViolations(c.out, reference)).toEqual([]);
    return done as unknown as FailoverJob;
  }

  it('SIGKILL of a random worker five times (a supervisor restarts it): five single-task recoveries, the other tasks untouched, the committed output exactly the reference', async () => {
    const c = await startJob('chaos', { lines: 12, everyMs: 10 });
    try {
      for (let k = 0; k < 5; k++) {
        const current = await job(c.cluster.api, c.id);
        const busy = [...new Set(current.tasks.map((t) => t.workerId))];
        const victim = busy[Math.floor(Math.random() * busy.length)];
        const { before, event } = await killAndRecover(c, victim, k);
        const after = await job(c.cluster.api, c.id);
        expect(after.state, `the job ended during kill ${k + 1}: ${after.error}`).toBe('RUNNING');
        expectOnlyVictimRolledBack(before, after, victim, event);
        console.log(`kill ${k + 1}: ${event.tasks.join(', ')} recovered (${event.strategy}) in ${event.durationMs} ms`);
        // As a supervisor would have it: the replacement is up, and a checkpoint covers the
        // recovery, before the next failure (one sooner is recovered globally: see below).
        await c.cluster.api.waitForWorkers(4);
        await until('a checkpoint after the recovery', async () => ((await job(c.cluster.api, c.id)).lastCheckpoint ?? -1) > (event.checkpointId ?? -1) || undefined);
      }
      const done = await finish(c);
      expect(done.restarts).toBe(5);
      const list = await events(c.cluster.api, c.id);
      expect(list.map((e) => e.strategy)).toEqual(['single-task', 'single-task', 'single-task', 'single-task', 'single-task']);
    } finally {
      await c.cluster.stop();
    }
  });

  for (const target of ['source', 'reduce', 'sink'] as const) {
    it(`SIGKILL of the worker holding a ${target} task: single-task recovery, exact results${target === 'reduce' ? '; the other reduce task keeps its attempt and keeps processing' : ''}`, async () => {
      const c = await startJob(`role-${target}`, { lines: 12, everyMs: 10 });
      try {
        const current = await job(c.cluster.api, c.id);
        // Prefer a worker whose only task has the role (so the other tasks of the role stay up).
        const holders = [...new Set(current.tasks.filter((t) => role(t) === target).map((t) => t.workerId))];
        holders.sort((a, b) => current.tasks.filter((t) => t.workerId === a).length - current.tasks.filter((t) => t.workerId === b).length);
        const victim = holders[0];
        const other = current.tasks.find((t) => role(t) === 'reduce' && t.workerId !== victim);
        const { before, event } = await killAndRecover(c, victim, 0);
        const after = await job(c.cluster.api, c.id);
        expectOnlyVictimRolledBack(before, after, victim, event);
        if (target === 'reduce') {
          // The surviving reduce task kept its attempt and worker (checked above) and keeps
          // counting: a recovery takes tens of milliseconds, less than the 250 ms between metric
          // reports, so its count is read from the next reports after the kill.
          expect(other).toBeDefined();
          const was = before.tasks.find((t) => t.taskId === other!.taskId)!.recordsProcessed;
          const later = await until('the surviving reduce task to count on', async () => {
            const t = (await job(c.cluster.api, c.id)).tasks.find((x) => x.taskId === other!.taskId)!;
            return t.recordsProcessed > was && t.attempt === other!.attempt ? t : undefined;
          }, 10_000);
          console.log(`reduce ${other!.taskId}: ${was} -> ${later.recordsProcessed} records (same attempt ${later.attempt}) after a ${event.durationMs} ms recovery`);
        }
        await finish(c);
      } finally {
        await c.cluster.stop();
      }
    });
  }

  it('a worker paused with SIGSTOP (alive, silent) is declared lost and its tasks recover single-task; when it resumes, its stale attempts are fenced (cancelled) and the results stay exact', async () => {
    const c = await startJob('paused', { lines: 12, everyMs: 10 });
    let paused: number | undefined;
    try {
      const current = await job(c.cluster.api, c.id);
      const holders = [...new Set(current.tasks.filter((t) => role(t) === 'reduce').map((t) => t.workerId))];
      const victim = holders[0];
      const workers = (await c.cluster.api.call<{ id: string; pid: number }[]>('GET', '/workers')).body;
      paused = workers.find((w) => w.id === victim)!.pid;
      const before = await job(c.cluster.api, c.id);
      process.kill(paused, 'SIGSTOP');
      const event = await finishedRecovery(c.cluster.api, c.id, 0, 'the recovery event');
      const after = await job(c.cluster.api, c.id);
      expectOnlyVictimRolledBack(before, after, victim, event);
      expect(event.reason).toContain('no heartbeat');
      const stale = before.tasks.filter((t) => t.workerId === victim);

      // The paused worker resumes: it registers again with its old attempts, which the
      // coordinator cancels; its heartbeats then report none of them.
      process.kill(paused, 'SIGCONT');
      paused = undefined;
      const back = await until('the resumed worker to drop its stale attempts', async () => {
        const list = (await c.cluster.api.call<{ id: string; running: { jobId: string; taskId: string; attempt: number }[] }[]>('GET', '/workers')).body;
        const w = list.find((x) => x.id === victim);
        return w !== undefined && !w.running.some((r) => r.jobId === c.id && stale.some((t) => t.taskId === r.taskId && t.attempt === r.attempt)) ? w : undefined;
      });
      expect(back.id).toBe(victim);
      const metrics = (await fetch(new URL('/metrics', c.cluster.url), { headers: { authorization: `Bearer ${c.cluster.token}` } }).then((r) => r.text())).match(/^mobius_stale_task_attempts_fenced_total (\d+)$/m);
      expect(Number(metrics?.[1])).toBeGreaterThanOrEqual(stale.length);

      const done = await finish(c);
      expect(done.restarts).toBe(1);
      expect((await events(c.cluster.api, c.id)).map((e) => e.strategy)).toEqual(['single-task']);
    } finally {
      if (paused !== undefined) process.kill(paused, 'SIGCONT');
      await c.cluster.stop();
    }
  });

  it('a second worker lost before a checkpoint covered the first recovery is recovered globally, and the results stay exact', async () => {
    // Checkpoints every 4 s: after the first recovery, the next one is seconds away.
    const c = await startJob('burst', { lines: 12, everyMs: 10 }, { 'checkpoint.interval.ms': 4000 });
    try {
      const current = await job(c.cluster.api, c.id);
      const busy = [...new Set(current.tasks.map((t) => t.workerId))];
      const first = await killAndRecover(c, busy[0], 0);
      expect(first.event.strategy).toBe('single-task');
      const after = await job(c.cluster.api, c.id);
      const next = [...new Set(after.tasks.map((t) => t.workerId))].find((w) => w !== busy[0])!;
      const second = await killAndRecover(c, next, 1);
      expect(second.event.strategy).toBe('global');
      expect(second.event.reason).toContain('before a checkpoint completed after it');
      await finish(c);
    } finally {
      await c.cluster.stop();
    }
  });

  it('a task that throws is recovered on its own (single-task), and the results stay exact', async () => {
    const cluster = await startCluster(4, { heartbeatTimeoutMs: HEARTBEAT_MS });
    try {
      const out = join(tmp.dir, 'out-task-error');
      const released = join(tmp.dir, 'released-task-error');
      const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, 'ckpt-task-error'), 'restart.strategy': 'fixed-delay', 'restart.delay.ms': 50 };
      const file = writeJob('task-error.ts', pacedWordCountJob(corpus, out, options, { lines: 40, everyMs: 10, until: released }, 60_000));
      const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
      expect(submit.code).toBe(0);
      const id = submit.stdout.trim();
      // Paced until the injected failure was recovered; then the rest at full speed.
      await finishedRecovery(cluster.api, id, 0, 'the recovery event');
      const done = await finish({ cluster, out, id, released });
      expect(done.restarts).toBe(1);
      const list = await events(cluster.api, id);
      expect(list).toHaveLength(1);
      expect(list[0].strategy).toBe('single-task');
      expect(list[0].tasks).toEqual(['source-1#0']);
      expect(list[0].reason).toContain('injected failure');
    } finally {
      await cluster.stop();
    }
  });

  it('the coordinator killed with SIGKILL mid-run and started again on the same data dir takes the job back: the workers re-register, the results stay exact', async () => {
    const token = randomUUID();
    const dataDir = join(tmp.dir, 'coordinator-data');
    const coordinatorArgs = (port: string) => ['coordinator', '--port', port, '--http-port', '0', '--token', token, '--heartbeat-timeout-ms', String(HEARTBEAT_MS), '--data-dir', dataDir];
    const procs: Proc[] = [];
    try {
      const first = start(coordinatorArgs('0'));
      procs.push(first);
      const [, url, control] = await waitForLine(first, /ready: (\S+) control (\S+)/);
      const port = /:(\d+)$/.exec(control)![1];
      for (let i = 0; i < 4; i++) procs.push(start(['worker', '--coordinator', control, '--token', token, '--slots', '4']));
      let api = new Api(url, token);
      await api.waitForWorkers(4);
      const out = join(tmp.dir, 'out-coordinator');
      const released = join(tmp.dir, 'released-coordinator');
      const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, 'ckpt-coordinator'), 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 20, 'restart.delay.ms': 50 };
      const file = writeJob('coordinator.ts', pacedWordCountJob(corpus, out, options, { lines: 12, everyMs: 10, until: released }));
      const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', url, '--token', token]);
      expect(submit.code).toBe(0);
      const id = submit.stdout.trim();
      await firstCommit(out);
      const before = await job(api, id);
      first.child.kill('SIGKILL');
      await first.exited;
      const second = start(coordinatorArgs(port));
      procs.push(second);
      const [, url2] = await waitForLine(second, /ready: (\S+) control (\S+)/);
      api = new Api(url2, token);
      const resumed = await until('the job taken back', async () => {
        const j = (await api.call<FailoverJob>('GET', `/jobs/${id}`)).body;
        return j.tasks?.every((t) => t.state === 'RUNNING' || t.state === 'FINISHED') ? j : undefined;
      });
      // Taken back, not restarted: the same tasks, the same attempts, on the same workers.
      for (const t of before.tasks) {
        const now = resumed.tasks.find((r) => r.taskId === t.taskId)!;
        expect(now.attempt).toBe(t.attempt);
        expect(now.workerId).toBe(t.workerId);
      }
      releasePace(released);
      const done = await api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
      expect(done.error).toBeNull();
      expect(done.state).toBe('FINISHED');
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await stopAll(procs);
    }
  });

  it('a replay buffer too small to cover the gap (failover.replay.max-bytes) widens the rollback, says why, and the results stay exact', async () => {
    const c = await startJob('overflow', { lines: 12, everyMs: 10 }, { 'failover.replay.max-bytes': 2048, 'checkpoint.interval.ms': 1500 });
    try {
      const current = await job(c.cluster.api, c.id);
      const victim = current.tasks.find((t) => role(t) === 'reduce')!.workerId;
      const { event } = await killAndRecover(c, victim, 0);
      expect(['region', 'global']).toContain(event.strategy);
      expect(event.reason).toMatch(/replay buffer of channel .* overflowed/);
      expect(event.tasks.length).toBeGreaterThan(current.tasks.filter((t) => t.workerId === victim).length);
      await finish(c);
    } finally {
      await c.cluster.stop();
    }
  });
});
