import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { until } from './failover-helpers.js';

/*
 * Issue 12, load metrics on the cluster: a source that always has input feeds a map with a
 * fixed CPU cost per record (a busy loop of COST_MS wall-clock ms), on its own task. The map is
 * the bottleneck: busy about all the time, its source backpressured, and its true processing
 * rate about 1000 / COST_MS records a second — a figure that follows from the job, not from the
 * engine. GET /jobs/:id shows it per task and per operator, GET /metrics as gauges.
 */
const COST_MS = 2;
const WINDOW_MS = 3000;

const loadJob = `
import { StreamingContext, type SourceContext } from 'mobius';

let next = 0;
const spin = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
};
// Small frames and few credits: the channel into the slow map fills at once, so backpressure starts early.
const ctx = StreamingContext.builder()
  .option('metrics.load.window.ms', ${WINDOW_MS})
  .option('runtime.batch.size', 128)
  .option('runtime.channel.credits', 2)
  .build();
ctx
  .source<number>({ fetch(c: SourceContext<number>) { for (let i = 0; i < 64; i++) c.collect(next++); } })
  .name('feed')
  .map((n: number) => { spin(${COST_MS}); return n; })
  .name('slow')
  .disableChain()
  .sink(() => undefined)
  .name('drop');
await ctx.execute('cluster_load');
`;

interface LoadTask {
  taskId: string;
  vertex: string;
  state: string;
  busyTimeMsPerSecond: number | null;
  backPressuredTimeMsPerSecond: number | null;
  idleTimeMsPerSecond: number | null;
  recordsInPerSecond: number | null;
  recordsIn: number;
  recordsOutPerSecond: number | null;
  trueProcessingRate: number | null;
  trueOutputRate: number | null;
}

interface LoadOperator {
  operatorId: string;
  name: string;
  vertexId: string;
  tasksReporting: number;
  busyTimeMsPerSecond: number | null;
  maxBusyTimeMsPerSecond: number | null;
  recordsInPerSecond: number | null;
  trueProcessingRate: number | null;
}

interface LoadJob {
  state: string;
  tasks: LoadTask[];
  operators: LoadOperator[];
  plan: { operators: { id: string; name: string; vertexId: string }[] };
}

describe('load metrics on the cluster', () => {
  const clusters: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.stop();
  });

  it('GET /jobs/:id and /metrics show the slow map busy at about 1000 / cost records per busy second, its source backpressured', async () => {
    const cluster = await startCluster(1);
    clusters.push(cluster);
    const file = writeJob('cluster-load.ts', loadJob);
    const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.code, submit.stderr).toBe(0);
    const id = submit.stdout.trim();

    // Figures settle once a full window of the steady state has passed.
    const settled = await until(
      'the slow map busy and its source backpressured',
      async () => {
        const j = (await cluster.api.call<LoadJob>('GET', `/jobs/${id}`)).body;
        const slow = j.tasks.find((t) => t.vertex.includes('map'));
        const feed = j.tasks.find((t) => t.vertex.includes('source'));
        const steady = (slow?.recordsIn ?? 0) > (2 * WINDOW_MS) / COST_MS;
        return steady && (slow?.busyTimeMsPerSecond ?? 0) > 850 && (feed?.backPressuredTimeMsPerSecond ?? 0) > 800 ? j : undefined;
      },
      90_000,
    );
    const slow = settled.tasks.find((t) => t.vertex.includes('map'))!;
    const feed = settled.tasks.find((t) => t.vertex.includes('source'))!;
    const ideal = 1000 / COST_MS;
    expect(slow.trueProcessingRate!).toBeGreaterThan(0.7 * ideal);
    expect(slow.trueProcessingRate!).toBeLessThan(1.05 * ideal);
    expect(slow.busyTimeMsPerSecond! + slow.backPressuredTimeMsPerSecond! + slow.idleTimeMsPerSecond!).toBeCloseTo(1000, -1);
    expect(feed.busyTimeMsPerSecond!).toBeLessThan(100);

    // Per operator: the map's vertex has one task, so its figures are that task's.
    const slowOp = settled.operators.find((o) => o.name === 'slow')!;
    expect(slowOp.vertexId).toBe(settled.plan.operators.find((o) => o.name === 'slow')!.vertexId);
    expect(slowOp.tasksReporting).toBe(1);
    expect(slowOp.busyTimeMsPerSecond).toBe(slow.busyTimeMsPerSecond);
    expect(slowOp.trueProcessingRate).toBe(slow.trueProcessingRate);
    expect(settled.operators.map((o) => o.operatorId)).toEqual(settled.plan.operators.map((o) => o.id));

    const res = await fetch(new URL('/metrics', cluster.url), { headers: { authorization: `Bearer ${cluster.token}` } });
    const text = await res.text();
    const gauge = (name: string, labels: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
      expect(line, `${name} with ${labels}`).toBeDefined();
      return Number(line!.slice(line!.lastIndexOf(' ') + 1));
    };
    expect(gauge('mobius_task_busy_time_ms_per_second', `task="${slow.taskId}"`)).toBeGreaterThan(800);
    expect(gauge('mobius_task_backpressured_time_ms_per_second', `task="${feed.taskId}"`)).toBeGreaterThan(500);
    expect(gauge('mobius_task_true_processing_rate', `task="${slow.taskId}"`)).toBeGreaterThan(0.6 * ideal);
    expect(gauge('mobius_operator_true_processing_rate', `operator="${slowOp.operatorId}"`)).toBeGreaterThan(0.6 * ideal);
    expect(text).toContain('# TYPE mobius_task_idle_time_ms_per_second gauge');

    expect((await cluster.api.call('POST', `/jobs/${id}/cancel`)).status).toBe(202);
    await cluster.api.waitForJob(id, (j) => j.state === 'CANCELED', 60_000);
  }, 180_000);
});
