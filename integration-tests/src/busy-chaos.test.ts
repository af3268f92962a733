import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { events, finishedRecovery, firstCommit, job, pacedWordCountJob, until } from './failover-helpers.js';
import { BLOCKING_MAP, committedSinkBytes, expectOnlyKilledLost, expectedSinkBytes, workersDeclaredLost } from './busy-helpers.js';

/**
 * Issue 17, item 9: a word count whose map blocks its thread 1 ms every 10 records, checkpoints
 * every 200 ms, four workers, about a minute (MOBIUS_CHAOS_SECONDS, default 60), three worker
 * SIGKILLs when a quarter, half and three quarters of the output are committed, each after the
 * previous recovery and a checkpoint completed after it. Busy workers must never be declared lost.
 */
const SECONDS = Number(process.env.MOBIUS_CHAOS_SECONDS ?? 60);
const PACE_MS = 10;

describe('chaos: CPU-bound map, three worker SIGKILLs, busy workers never declared lost', () => {
  const tmp = tempDir('mobius-busy-chaos-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  let lines = 0;
  let total = 0;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(1_200_000), '17']);
    const text = readText(corpus);
    reference = referenceCounts(text);
    lines = text.split('\n').length;
    total = expectedSinkBytes(reference);
  });
  afterAll(() => tmp.remove());

  for (const strategy of ['single-task', 'global'] as const) {
    it(`failover.strategy ${strategy}: every kill recovered${strategy === 'single-task' ? ' single-task' : ''}, no live worker lost, output exact`, { timeout: (SECONDS * 4 + 120) * 1000 }, async () => {
      const cluster = await startCluster(4);
      const killed: string[] = [];
      try {
        const out = join(tmp.dir, `out-${strategy}`);
        // Each source task reads every other line, `perFetch` lines every PACE_MS: about SECONDS in all.
        const perFetch = Math.max(1, Math.round(lines / 2 / ((SECONDS * 1000) / PACE_MS)));
        const options = {
          'checkpoint.interval.ms': 200,
          'checkpoint.dir': join(process.env.MOBIUS_TEST_LOG_DIR ?? tmp.dir, `ckpt-${strategy}`),
          'failover.strategy': strategy,
        };
        const file = writeJob(`chaos-${strategy}.ts`, pacedWordCountJob(corpus, out, options, { lines: perFetch, everyMs: PACE_MS }, undefined, BLOCKING_MAP));
        const started = Date.now();
        const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
        expect(submit.code).toBe(0);
        const id = submit.stdout.trim();
        await firstCommit(out);

        for (let k = 0; k < 3; k++) {
          // Kill when (k + 1) quarters of the output are committed.
          await until(`${k + 1}/4 of the output committed`, async () => {
            if (committedSinkBytes(out) < ((k + 1) * total) / 4) return undefined;
            const j = await job(cluster.api, id);
            if (j.state !== 'RUNNING') throw new Error(`the job is ${j.state} before kill ${k + 1}: ${j.error}`);
            return true;
          }, SECONDS * 3000);
          const before = await job(cluster.api, id);
          const holders = [...new Set(before.tasks.map((t) => t.workerId))];
          // A worker that runs a blocking map task, if any (else any that runs tasks).
          const victim = holders.find((w) => before.tasks.some((t) => t.workerId === w && t.vertex.startsWith('map'))) ?? holders[0];
          const workers = (await cluster.api.call<{ id: string; pid: number }[]>('GET', '/workers')).body;
          process.kill(workers.find((w) => w.id === victim)!.pid, 'SIGKILL');
          killed.push(victim);
          cluster.startWorker();
          const event = await finishedRecovery(cluster.api, id, k, `recovery ${k + 1}`, 120_000);
          expect(event.strategy).toBe(strategy);
          const recovered = await job(cluster.api, id);
          // A checkpoint completes after the recovery before the next kill (or the job finished).
          await until(`a checkpoint after recovery ${k + 1}`, async () => {
            const j = await job(cluster.api, id);
            return j.state === 'FINISHED' || (j.lastCheckpoint !== null && j.lastCheckpoint > (recovered.lastCheckpoint ?? 0)) ? true : undefined;
          }, 60_000).catch(async (e: unknown) => {
            const warnings = [cluster.coordinator, ...cluster.workers].flatMap((p) => p.stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-15));
            const j = await job(cluster.api, id);
            throw new Error(`${(e as Error).message}; job ${j.state}, last checkpoint ${j.lastCheckpoint}, tasks ${JSON.stringify(j.tasks)}; warnings:\n${warnings.join('\n')}`);
          });
        }

        const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', SECONDS * 3000 + 60_000);
        console.log(`chaos ${strategy}: ${Math.round((Date.now() - started) / 1000)} s, kills ${killed.length}`);
        expect(done.error).toBeNull();
        expect(done.state).toBe('FINISHED');
        const all = await events(cluster.api, id);
        expect(all.map((e) => e.strategy)).toEqual([strategy, strategy, strategy]);
        expectOnlyKilledLost(workersDeclaredLost(cluster.coordinator.stderr), killed);
        expect(exactlyOnceViolations(out, reference)).toEqual([]);
      } finally {
        await cluster.stop();
      }
    });
  }
});
