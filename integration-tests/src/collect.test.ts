import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { corpusPath, mobiusCli, readText, referenceCounts, repoRoot, run } from './helpers.js';

/** Output of the collect word-count example, from its first line on: the distinct words, then the top 20 of a plain count. */
function expectTopWords(lines: readonly string[]): void {
  const reference = [...referenceCounts(readText(corpusPath))].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  expect(lines[0]).toContain(`${reference.length} distinct words`);
  expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual(reference.slice(0, 20).map(([w, n]) => [String(n), w]));
}

describe('executeAndCollect through the mobius command', () => {
  it('mobius run of the collect word-count example prints the top words of a plain count, at parallelism 2', async () => {
    const r = await run(process.execPath, [mobiusCli, 'run', join(repoRoot, 'examples/word-count/collect-word-count.ts'), '--parallelism', '2'], { timeoutMs: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectTopWords(r.stdout.trim().split('\n'));
  }, 240_000);
});

// executeAndCollect() on a real local cluster: collect sink tasks on the workers push batches to
// the coordinator over the control channel; `mobius-cluster submit` runs the job module, whose
// executeAndCollect() fetches them from GET /jobs/:id/results.
describe('executeAndCollect on a cluster', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    cluster = await startCluster(2, { slots: 1 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const submit = (job: string, ...jobArgs: string[]) =>
    run(process.execPath, [clusterCli, 'submit', job, '--url', cluster.url, '--token', cluster.token, ...(jobArgs.length > 0 ? ['--', ...jobArgs] : [])], { timeoutMs: 240_000, cwd: repoRoot });

  it("returns a word count's results from reduce tasks on two workers, equal to a plain count", async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
    const lines = Array.from({ length: 3000 }, (_, i) => Array.from({ length: 1 + (i % 5) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '));
    const job = writeJob(
      'collect-word-count.ts',
      `import { StreamingContext } from 'mobius';
const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
const totals = await ctx
  .readTextFile(${JSON.stringify('INPUT')})
  .flatMap((line) => line.split(' ').filter((w) => w.length > 0))
  .map((w): [string, number] => [w, 1])
  .keyBy((p) => p[0])
  .reduce((a, b) => [a[0], a[1] + b[1]])
  .executeAndCollect('collect-word-count');
console.log(JSON.stringify({ records: totals.length, counts: Object.fromEntries(new Map(totals)) }));
`,
    );
    const input = join(job, '..', 'input.txt');
    writeFileSync(input, `${lines.join('\n')}\n`);
    writeFileSync(job, readFileSync(job, 'utf8').replace('"INPUT"', JSON.stringify(input)));
    const r = await submit(job);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [id, result] = r.stdout.trim().split('\n');
    const out = JSON.parse(result) as { records: number; counts: Record<string, number> };
    const reference = referenceCounts(lines.join('\n'));
    expect(out.counts).toEqual(Object.fromEntries(reference));
    expect(out.records).toBe([...reference.values()].reduce((a, b) => a + b, 0));
    const details = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED');
    expect(new Set(details.tasks.filter((t) => t.vertex.startsWith('reduce')).map((t) => t.workerId)).size).toBe(2);
  }, 300_000);

  it('the collect word-count example, submitted as the README shows, prints the top words of a plain count', async () => {
    const r = await submit(join(repoRoot, 'examples/word-count/collect-word-count.ts'), '--parallelism', '2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectTopWords(r.stdout.trim().split('\n').slice(1));
  }, 300_000);

  it('with a limit returns the first records of an endless source and ends the job (CANCELED)', async () => {
    const job = writeJob(
      'collect-limit.ts',
      `import { StreamingContext, type SourceContext } from 'mobius';
const ctx = StreamingContext.builder().build();
const first = await ctx
  .source({ next: 0, fetch(c: SourceContext<number>) { for (let i = 0; i < 10; i++) c.collect(this.next++); } })
  .executeAndCollect({ jobName: 'collect-limit', limit: 100 });
console.log(JSON.stringify(first));
`,
    );
    const r = await submit(job);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [id, result] = r.stdout.trim().split('\n');
    expect(JSON.parse(result)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const details = await cluster.api.waitForJob(id, (j) => j.state === 'CANCELED' || j.state === 'FAILED');
    expect(details.state).toBe('CANCELED');
  }, 300_000);
});
