import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { expectOnlyVictimRolledBack, finishedRecovery, firstCommit, job, pacedWordCountJob, releasePace, until } from './failover-helpers.js';

/**
 * Issue 18: a cluster worker runs its tasks on worker threads, one per slot by default, each
 * thread with a data transport of its own; the main thread keeps control and heartbeats.
 */

type Cluster = Awaited<ReturnType<typeof startCluster>>;
interface ThreadedWorker {
  id: string;
  pid: number;
  endpoint: string;
  slotEndpoints?: string[];
  lastHeartbeat: number;
}

const submit = (cluster: Cluster, file: string) => run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token], { timeoutMs: 240_000, cwd: repoRoot });
const workers = async (cluster: Cluster) => (await cluster.api.call<ThreadedWorker[]>('GET', '/workers')).body;

describe('a worker with task threads (one per slot, the default)', () => {
  const tmp = tempDir('mobius-cluster-threads-');
  afterAll(() => tmp.remove());

  it('registers one data endpoint per thread and runs a map of parallelism 2 on two threads, neither the main one', { timeout: 240_000 }, async () => {
    const cluster = await startCluster(1, { slots: 2 });
    try {
      const [worker] = await workers(cluster);
      expect(worker.slotEndpoints).toHaveLength(2);
      expect(new Set([worker.endpoint, ...worker.slotEndpoints!]).size).toBe(3);
      const file = writeJob(
        'thread-ids.ts',
        `import { threadId } from 'node:worker_threads';
import { StreamingContext } from 'mobius';
const ctx = StreamingContext.builder().build();
const ids = await ctx
  .fromCollection(Array.from({ length: 400 }, (_, i) => i))
  .map((i: number) => [i, threadId] as const)
  .setParallelism(2)
  .executeAndCollect('thread-ids');
console.log(JSON.stringify({ records: ids.length, threads: [...new Set(ids.map((p) => p[1]))].sort() }));
`,
      );
      const r = await submit(cluster, file);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n')[1]) as { records: number; threads: number[] };
      expect(out.records).toBe(400);
      expect(out.threads.length).toBe(2);
      expect(out.threads).not.toContain(0); // 0 is a process's main thread
    } finally {
      await cluster.stop();
    }
  });

  it('gives exact word counts with two workers of two threads each (channels in a thread, between threads, between processes)', { timeout: 300_000 }, async () => {
    const cluster = await startCluster(2, { slots: 2 });
    try {
      for (const w of await workers(cluster)) expect(w.slotEndpoints).toHaveLength(2);
      const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda'];
      const lines = Array.from({ length: 6000 }, (_, i) => Array.from({ length: 1 + (i % 7) }, (_, j) => words[(i * 7 + j * 5) % words.length]).join(' '));
      const file = writeJob(
        'threads-word-count.ts',
        `import { StreamingContext } from 'mobius';
const ctx = StreamingContext.builder().option('parallelism.default', 4).build();
const totals = await ctx
  .readTextFile("INPUT")
  .flatMap((line: string) => line.split(' ').filter((w) => w.length > 0))
  .map((w: string): [string, number] => [w, 1])
  .keyBy((p) => p[0])
  .reduce((a, b) => [a[0], a[1] + b[1]])
  .executeAndCollect('threads-word-count');
const last = new Map<string, number>();
for (const [w, c] of totals) last.set(w, Math.max(last.get(w) ?? 0, c));
console.log(JSON.stringify(Object.fromEntries(last)));
`,
      );
      const input = join(file, '..', 'input.txt');
      writeFileSync(input, `${lines.join('\n')}\n`);
      writeFileSync(file, readFileSync(file, 'utf8').replace('"INPUT"', JSON.stringify(input)));
      const r = await submit(cluster, file);
      expect(r.code, r.stderr).toBe(0);
      const [id, result] = r.stdout.trim().split('\n');
      expect(JSON.parse(result)).toEqual(Object.fromEntries(referenceCounts(lines.join('\n'))));
      const details = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED');
      const reduces = details.tasks.filter((t) => t.vertex.startsWith('reduce'));
      expect(new Set(reduces.map((t) => t.workerId)).size).toBe(2);
    } finally {
      await cluster.stop();
    }
  });
});

describe('single-task recovery with task threads', () => {
  const tmp = tempDir('mobius-cluster-threads-failover-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(400_000), '29']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  it('a worker killed with SIGKILL: only its tasks roll back, onto the threads of the others, and the output is exact', { timeout: 300_000 }, async () => {
    const cluster = await startCluster(3, { slots: 2, heartbeatTimeoutMs: 1000 });
    try {
      const out = join(tmp.dir, 'out');
      const released = join(tmp.dir, 'released');
      const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, 'ckpt'), 'failover.strategy': 'single-task', 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 20, 'restart.delay.ms': 50 };
      const file = writeJob('threads-failover.ts', pacedWordCountJob(corpus, out, options, { lines: 2, everyMs: 10, until: released }));
      const r = await submit(cluster, file);
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      await firstCommit(out);
      const before = await job(cluster.api, id);
      const holders = new Map<string, number>();
      for (const t of before.tasks) holders.set(t.workerId, (holders.get(t.workerId) ?? 0) + 1);
      const victim = [...holders].sort((a, b) => b[1] - a[1])[0][0];
      const all = await workers(cluster);
      for (const w of all) expect(w.slotEndpoints).toHaveLength(2);
      process.kill(all.find((w) => w.id === victim)!.pid, 'SIGKILL');
      cluster.startWorker();
      const event = await finishedRecovery(cluster.api, id, 0, 'the recovery event', 120_000);
      const after = await job(cluster.api, id);
      expectOnlyVictimRolledBack(before, after, victim, event);
      releasePace(released);
      const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 240_000);
      expect(done.error).toBeNull();
      expect(done.state).toBe('FINISHED');
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});

describe('a worker whose task threads are all CPU-bound', () => {
  it('answers control requests within 100 ms, keeps its heartbeats fresh, and answers a cancel', { timeout: 240_000 }, async () => {
    const cluster = await startCluster(1, { slots: 2, heartbeatTimeoutMs: 2000 });
    try {
      const file = writeJob(
        'spin.ts',
        `import { StreamingContext, type SourceContext } from 'mobius';
const ctx = StreamingContext.builder().build();
ctx
  .source({ next: 0, fetch(c: SourceContext<number>) { for (let i = 0; i < 10; i++) c.collect(this.next++); } })
  .setParallelism(2)
  .map((i: number) => {
    // 50 ms of CPU per record, never yielding.
    const end = Date.now() + 50;
    while (Date.now() < end);
    return i;
  })
  .setParallelism(2)
  .sink(() => undefined)
  .setParallelism(2)
  .disableChain();
await ctx.execute('spin');
`,
      );
      const r = await submit(cluster, file);
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      // Both map tasks took records: both task threads spin from now on.
      await until('both map tasks busy', async () => {
        const j = await job(cluster.api, id);
        const spinning = j.tasks.filter((t) => !t.vertex.startsWith('sink'));
        return spinning.length === 2 && spinning.every((t) => t.state === 'RUNNING' && t.recordsProcessed > 0) ? true : undefined;
      }, 120_000);
      const [worker] = await workers(cluster);
      const trips: number[] = [];
      for (let i = 0; i < 10; i++) {
        const ping = await cluster.api.call<{ roundTripMs: number }>('POST', `/workers/${worker.id}/ping`);
        expect(ping.status).toBe(200);
        trips.push(ping.body.roundTripMs);
      }
      trips.sort((a, b) => a - b);
      console.log(`coordinator → worker ping round trips with both task threads spinning (ms): ${trips.map((t) => t.toFixed(1)).join(' ')}`);
      // On a loaded 2-core machine the OS may delay one wake-up; the median must be well within.
      expect(trips[Math.floor(trips.length / 2)]).toBeLessThan(100);
      expect(trips.filter((t) => t < 100).length).toBeGreaterThanOrEqual(8);
      const fresh = (await workers(cluster))[0];
      expect(Date.now() - fresh.lastHeartbeat).toBeLessThan(2000);
      const cancel = await cluster.api.call('POST', `/jobs/${id}/cancel`);
      expect(cancel.status).toBe(202);
      const done = await cluster.api.waitForJob(id, (j) => j.state === 'CANCELED' || j.state === 'FINISHED' || j.state === 'FAILED', 60_000);
      expect(done.state).toBe('CANCELED');
      expect((await workers(cluster))).toHaveLength(1);
    } finally {
      await cluster.stop();
    }
  });
});
