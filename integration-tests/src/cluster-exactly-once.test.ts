import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deserialize } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTaskSnapshot } from '@mobius/runtime';
import { committedUpdates, exactlyOnceViolations } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob, type JobDetails } from './cluster-helpers.js';


/** The seed's word count into a FileSink, with checkpoints. */
function job(input: string, out: string, options: Record<string, string | number>, parallelism = 2): string {
  return `
import { FileSink, StreamingContext } from 'mobius';
const builder = StreamingContext.builder();
for (const [k, v] of Object.entries(${JSON.stringify(options)})) builder.option(k, v);
const ctx = builder.build();
ctx
  .readTextFile(${JSON.stringify(input)})
  .setParallelism(2)
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  .map((w: string): [string, number] => [w, 1])
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .setParallelism(${parallelism})
  .filter((p) => !p[0].includes('ray'))
  .sink(new FileSink<[string, number]>({ dir: ${JSON.stringify(out)} }));
await ctx.execute('cluster_exactly_once');
`;
}

/** How many words of `reference` occur as strings in the task snapshots of a checkpoint folder (<root>/<job>/chk-N). */
function wordsInSnapshots(folder: string, reference: Map<string, number>): number {
  const root = dirname(dirname(folder));
  const meta = JSON.parse(readFileSync(join(folder, '_metadata.json'), 'utf8')) as { tasks: Record<string, string> };
  const found = new Set<string>();
  const visit = (v: unknown, depth = 0): void => {
    if (depth > 20) return;
    if (typeof v === 'string') {
      if (reference.has(v)) found.add(v);
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
    } else if (v instanceof Map) {
      for (const [k, x] of v) (visit(k, depth + 1), visit(x, depth + 1));
    } else if (v instanceof Uint8Array) {
      // The memory backend keeps each key group V8-serialised (node:v8, first byte 0xff).
      if (v[0] !== 0xff) return;
      let inner: unknown;
      try {
        inner = deserialize(v);
      } catch {
        return;
      }
      visit(inner, depth + 1);
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) visit(x, depth + 1);
    }
  };
  for (const handle of Object.values(meta.tasks)) visit(decodeTaskSnapshot(readFileSync(join(root, handle)).subarray(48)).operators);
  return found.size;
}

/** Each word's committed counts are exactly 1..final: every update once, none lost, none twice. */
function expectExactlyOnce(dir: string, reference: Map<string, number>): void {
  expect(exactlyOnceViolations(dir, reference)).toEqual([]);
}

describe('exactly-once on the cluster: checkpoints, a killed worker, a global restore', () => {
  const tmp = tempDir('mobius-cluster-eo-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(20_000_000), '5']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  for (const backend of ['memory', 'level'] as const) {
    it(`a worker killed with SIGKILL mid-run (${backend} state backend): the job restores its latest checkpoint on the others and the committed files hold every update exactly once`, async () => {
      const cluster = await startCluster(3);
      try {
        const out = join(tmp.dir, `out-kill-${backend}`);
        const file = writeJob(
          'eo.ts',
          job(corpus, out, { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, `ckpt-${backend}`), 'restart.strategy': 'fixed-delay', 'restart.delay.ms': 100, 'state.backend': backend, 'failover.strategy': 'global' }),
        );
        const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
        expect(submit.code).toBe(0);
        const id = submit.stdout.trim();
        // Wait until a checkpoint has committed part files, then kill a worker that runs tasks.
        const deadline = Date.now() + 60_000;
        while (!(existsSync(out) && readdirSync(out).some((f) => f.endsWith('.jsonl')))) {
          if (Date.now() > deadline) throw new Error('no checkpoint committed within 60 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        const running = (await cluster.api.call<JobDetails>('GET', `/jobs/${id}`)).body;
        expect(running.state).toBe('RUNNING');
        const workers = (await cluster.api.call<{ id: string; pid: number }[]>('GET', '/workers')).body;
        const victim = workers.find((w) => running.tasks.some((t) => t.workerId === w.id))!;
        process.kill(victim.pid, 'SIGKILL');
        const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 120_000);
        expect(done.error).toBeNull();
        expect(done.state).toBe('FINISHED');
        expect((done as unknown as { restarts: number }).restarts).toBe(1);
        expect(done.tasks.every((t) => t.workerId !== victim.id)).toBe(true);
        // failover.strategy = global: every task was rolled back, and the event says so.
        const events = (await cluster.api.call<{ strategy: string; tasks: string[] }[]>('GET', `/jobs/${id}/events`)).body;
        expect(events.map((e) => e.strategy)).toEqual(['global']);
        expect(events[0].tasks).toHaveLength(running.tasks.length);
        expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
        expectExactlyOnce(out, reference);
      } finally {
        await cluster.stop();
      }
    });
  }

  it('a savepoint taken at parallelism 2 holds the keyed state and restores at parallelism 3 (three reduce tasks) with the same results', async () => {
    // Not a liveness test: a generous heartbeat timeout keeps a loaded machine from failing the job.
    const cluster = await startCluster(3, { heartbeatTimeoutMs: 10_000 });
    try {
      const out = join(tmp.dir, 'out-savepoint');
      const options = { 'checkpoint.dir': join(tmp.dir, 'ckpt-sp') };
      const first = writeJob('sp2.ts', job(corpus, out, options, 2));
      const submit = await run(process.execPath, [clusterCli, 'submit', first, '--url', cluster.url, '--token', cluster.token]);
      const id = submit.stdout.trim();
      await cluster.api.waitForJob(id, (j) => j.state === 'RUNNING' && j.tasks.some((t) => t.recordsIn > 0), 30_000);
      const stop = await run(process.execPath, [clusterCli, 'stop', id, '--savepoint', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 30_000 });
      expect(stop.stderr, JSON.stringify((await cluster.api.call<JobDetails>('GET', `/jobs/${id}`)).body.error)).toBe('');
      expect(stop.code).toBe(0);
      const savepoint = stop.stdout.trim();
      expect(savepoint).toMatch(/chk-\d+$/);
      await cluster.api.waitForJob(id, (j) => j.state === 'CANCELED', 30_000);
      // The savepoint holds the reduce tasks' keyed state: words of the corpus, found by
      // decoding its task files (not by asking the engine).
      const held = wordsInSnapshots(savepoint, reference);
      expect(held, 'words of the corpus in the savepoint state').toBeGreaterThan(100);
      const firstRunFiles = new Set(readdirSync(out));
      const second = writeJob('sp3.ts', job(corpus, out, options, 3));
      const resumed = await run(process.execPath, [clusterCli, 'submit', second, '--wait', '--from-savepoint', savepoint, '--url', cluster.url, '--token', cluster.token], { timeoutMs: 60_000 });
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      // Three reduce tasks ran, each on its own worker, each with input.
      const details = (await cluster.api.call<JobDetails>('GET', `/jobs/${resumed.stdout.trim()}`)).body;
      const reduces = details.tasks.filter((t) => t.vertex === 'reduce-4');
      expect(reduces.map((t) => t.index).sort()).toEqual([0, 1, 2]);
      expect(reduces.every((t) => t.state === 'FINISHED' && t.recordsIn > 0), JSON.stringify(reduces)).toBe(true);
      // The second run continued from the savepoint's counts: some words' first update in it is above 1.
      const continued = [...committedUpdates(out, (f) => firstRunFiles.has(f)).values()].filter((counts) => counts.every((c) => c > 1));
      expect(continued.length).toBeGreaterThan(0);
      // Keyed state moved from 2 reduce tasks to 3 by key group; the first run's updates up to
      // the savepoint and the second run's after it add up to every update exactly once.
      expectExactlyOnce(out, reference);
    } finally {
      await cluster.stop();
    }
  });
});
