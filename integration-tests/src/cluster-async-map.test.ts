import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { clusterCli, startCluster, writeJob, type JobDetails } from './cluster-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';

/**
 * The word count with its map made async (a lookup stand-in that yields to the event loop, so
 * calls complete out of order) on its own tasks, fed round-robin from both sources: records
 * cross workers into the async map and out of it, with checkpoints into an exactly-once FileSink.
 */
function job(input: string, out: string, checkpoints: string): string {
  return `
import { FileSink, StreamingContext } from 'mobius';
const ctx = StreamingContext.builder()
  .option('parallelism.default', 2)
  .option('checkpoint.interval.ms', 200)
  .option('checkpoint.dir', ${JSON.stringify(checkpoints)})
  .build();
let n = 0;
ctx
  .readTextFile(${JSON.stringify(input)})
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  .rebalance()
  .asyncMap(async (w: string): Promise<[string, number]> => {
    for (let i = ++n % 3; i > 0; i--) await new Promise<void>((resolve) => setImmediate(resolve));
    return [w, 1];
  }, { capacity: 32 })
  .keyBy((p) => p[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .filter((p) => !p[0].includes('ray'))
  .sink(new FileSink<[string, number]>({ dir: ${JSON.stringify(out)} }));
await ctx.execute('cluster_async_map');
`;
}

describe('an async map on a cluster', () => {
  const tmp = tempDir('mobius-cluster-async-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  beforeAll(() => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(2_000_000), '31']);
    reference = referenceCounts(readText(corpus));
  });
  afterAll(() => tmp.remove());

  it('runs its tasks on two workers and the committed output is exact', async () => {
    const cluster = await startCluster(2, { slots: 3 });
    try {
      const out = join(tmp.dir, 'out');
      const file = writeJob('async-map.ts', job(corpus, out, join(tmp.dir, 'ckpt')));
      const submit = await run(process.execPath, [clusterCli, 'submit', file, '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 180_000 });
      expect(submit.stderr).toBe('');
      expect(submit.code).toBe(0);
      const details = (await cluster.api.call<JobDetails>('GET', `/jobs/${submit.stdout.trim()}`)).body;
      expect(details.state).toBe('FINISHED');
      const mapTasks = details.tasks.filter((t) => t.vertex === 'map-3');
      expect(mapTasks).toHaveLength(2);
      expect(new Set(mapTasks.map((t) => t.workerId)).size).toBe(2);
      expect(mapTasks.every((t) => t.recordsIn > 0)).toBe(true);
      expect(exactlyOnceViolations(out, reference)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});
