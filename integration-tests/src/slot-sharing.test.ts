import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob, type JobDetails } from './cluster-helpers.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

const N = 2000;
const CHAINS = 8;

/**
 * Issue 17, item 7: eight chains of parallelism 2 (16 tasks), each chain a task of its own; the
 * six maps in between each add 1. The sink tasks write what they got to one file each.
 */
function eightChainsJob(outDir: string, extra: string): string {
  return `
import { mkdirSync, writeFileSync } from 'node:fs';
import { StreamingContext, type RuntimeContext, type SinkFunction } from 'mobius';

class ValuesFile implements SinkFunction<number> {
  private values: number[] = [];
  private path = '';
  open(ctx: RuntimeContext): void {
    this.values = [];
    this.path = ${JSON.stringify(outDir)} + '/part-' + ctx.taskIndex + '-' + ctx.attempt;
  }
  sink(v: number): void {
    this.values.push(v);
  }
  close(): void {
    mkdirSync(${JSON.stringify(outDir)}, { recursive: true });
    writeFileSync(this.path, this.values.join('\\n'));
  }
}

const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
let stream = ctx.fromCollection(Array.from({ length: ${N} }, (_, i) => i)).rebalance();
for (let i = 0; i < ${CHAINS - 2}; i++) stream = stream.map((x: number) => x + 1).disableChain().rebalance();
stream.sink(new ValuesFile()).disableChain()${extra};
await ctx.execute('eight_chains');
`;
}

function readValues(outDir: string): number[] {
  const values: number[] = [];
  for (const f of readdirSync(outDir)) {
    const text = readFileSync(join(outDir, f), 'utf8');
    if (text !== '') values.push(...text.split('\n').map(Number));
  }
  return values.sort((a, b) => a - b);
}

describe('slot sharing on a cluster of 4 workers × 2 slots', () => {
  let cluster: Cluster;
  const tmp = tempDir('mobius-slots-');

  beforeAll(async () => {
    cluster = await startCluster(4, { slots: 2 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  async function submit(job: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url], { timeoutMs: 180_000, env: { ...process.env, MOBIUS_TOKEN: cluster.token } });
  }

  it('runs a 16-task job (8 chains of parallelism 2) on 8 slots, to exact results', async () => {
    const out = join(tmp.dir, 'out');
    const result = await submit(writeJob('eight-chains.ts', eightChainsJob(out, '')));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const details = (await cluster.api.call<JobDetails>('GET', `/jobs/${result.stdout.trim()}`)).body;
    expect(details.state).toBe('FINISHED');
    expect(details.tasks).toHaveLength(16);
    // 16 tasks in 8 slots: two shared slots per worker hold four tasks, and a chain's two tasks
    // run on two workers.
    const perWorker = new Map<string, number>();
    for (const t of details.tasks) perWorker.set(t.workerId, (perWorker.get(t.workerId) ?? 0) + 1);
    expect([...perWorker.values()].sort()).toEqual([4, 4, 4, 4]);
    const workersOfVertex = new Map<string, Set<string>>();
    for (const t of details.tasks) workersOfVertex.set(t.vertex, (workersOfVertex.get(t.vertex) ?? new Set()).add(t.workerId));
    for (const [vertex, workers] of workersOfVertex) expect(workers.size, vertex).toBe(2);
    // Each of the six maps adds 1 to every value 0..N-1, computed here without the engine.
    const expected = Array.from({ length: N }, (_, i) => i + CHAINS - 2);
    expect(readValues(out)).toEqual(expected);
  }, 240_000);

  it('refuses a job needing more slots than the cluster has with a 409 naming both numbers', async () => {
    const out = join(tmp.dir, 'too-big');
    // The sink in a group of its own at parallelism 7: 2 + 7 = 9 slots on a cluster of 8.
    const result = await submit(writeJob('too-big.ts', eightChainsJob(out, ".slotSharingGroup('sinks').setParallelism(7)")));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('job needs 9 slots but the cluster has 8 free of 8');
  }, 240_000);
});
