import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { run } from './helpers.js';

// executeAndCollect() has no way back to a caller on a cluster yet: a job with a collect sink is
// refused at submit, with the reason, instead of failing on every worker until restarts give up.
describe('a collect sink on a cluster', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;

  beforeAll(async () => {
    cluster = await startCluster(0);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('is refused at submit with COLLECT_UNSUPPORTED, naming the job and the sink; no job is created', async () => {
    const job = writeJob(
      'collect-job.ts',
      `import { StreamingContext } from 'mobius';
const ctx = StreamingContext.builder().build();
const out = await ctx.fromValues(1, 2, 3).map((x) => x * 2).executeAndCollect('doubled');
console.log(out);
`,
    );
    const r = await run(process.execPath, [clusterCli, 'submit', job, '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/COLLECT_UNSUPPORTED|job "doubled" ends in a collect sink \("collect", collect-3\)/);
    expect(r.stderr).toContain('run the job embedded');
    const { body } = await cluster.api.call<unknown[]>('GET', '/jobs');
    expect(body).toEqual([]);
  }, 180_000);
});
