import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type ExecutionPlan, type PlanTask, type TaskRunState } from '@mobius/interface';
import { ClusterJob } from './cluster-job.js';
import { Coordinator } from './coordinator.js';
import { createHttpApi, listen } from './http-api.js';
import { createMetrics } from './metrics.js';

/** A two-vertex plan: source `src` (1 task) → `map` (2 tasks), over a non-chained edge. */
function fakePlan(): ExecutionPlan {
  const task = (vertexId: string, index: number): PlanTask => ({ id: `${vertexId}#${index}`, vertexId, index, keyGroups: { start: 0, end: 127 } });
  return {
    jobName: 'word count',
    graphHash: 'h',
    maxParallelism: 128,
    config: {},
    operators: [],
    vertices: [
      { id: 'src', name: 'Source: lines', operatorIds: ['op-src'], parallelism: 1 },
      { id: 'map', name: 'Map "words"', operatorIds: ['op-map'], parallelism: 2 },
    ],
    edges: [{ id: 'op-src->op-map', sourceOperator: 'op-src', targetOperator: 'op-map', sourceVertex: 'src', targetVertex: 'map', partition: 'rebalance', chained: false, inputIndex: 0 }],
    tasks: [task('src', 0), task('map', 0), task('map', 1)],
    channels: [],
  };
}

/** Puts a RUNNING job with reported task metrics into the coordinator's jobs map. */
function fakeJob(coordinator: Coordinator, id: string, counts: Record<string, [number, number]>, state: TaskRunState = 'RUNNING'): ClusterJob {
  const job = new ClusterJob(id, 'word count', fakePlan(), 'export {};');
  job.state = 'RUNNING';
  job.attempt = 1;
  job.restarts = 1;
  for (const t of job.plan.tasks) {
    const c = counts[t.id];
    job.tasks.set(t.id, {
      taskId: t.id,
      workerId: 'w1',
      attempt: 1,
      state,
      metrics: c === undefined ? undefined : { taskId: t.id, vertexName: t.vertexId, recordsIn: c[0], recordsOut: c[1], attempt: 1 },
    });
  }
  coordinator.jobs.set(id, job);
  return job;
}

const coordinators: Coordinator[] = [];
function newCoordinator(token?: string): Coordinator {
  const c = new Coordinator({ port: 0, token, logger: silentLogger });
  coordinators.push(c);
  return c;
}
afterEach(async () => {
  for (const c of coordinators.splice(0)) {
    // The fakes have no control channel behind them: nothing to cancel on stop.
    c.workers.clear();
    c.jobs.clear();
    await c.stop();
  }
});

describe('coordinator metrics', () => {
  it('exposes per-task records processed with job, job name, task and vertex labels', async () => {
    const coordinator = newCoordinator();
    fakeJob(coordinator, 'job-1', { 'src#0': [0, 300], 'map#0': [140, 420], 'map#1': [160, 480] });
    const text = await createMetrics(coordinator).render();
    // A source reporting no records in counts its records out.
    expect(text).toContain('mobius_task_records_processed{job="job-1",job_name="word count",task="src#0",vertex="Source: lines"} 300');
    expect(text).toContain('mobius_task_records_processed{job="job-1",job_name="word count",task="map#0",vertex="Map \\"words\\""} 140');
    expect(text).toContain('mobius_task_records_processed{job="job-1",job_name="word count",task="map#1",vertex="Map \\"words\\""} 160');
    expect(text).toContain('mobius_task_records_out{job="job-1",job_name="word count",task="map#1",vertex="Map \\"words\\""} 480');
    expect(text).toContain('mobius_task_attempt{job="job-1",job_name="word count",task="map#0"} 1');
    expect(text).toContain('mobius_job_restarts{job="job-1",job_name="word count"} 1');
    expect(text).toContain('# TYPE mobius_task_records_processed gauge');
    expect(text).toMatch(/^mobius_coordinator_process_cpu_user_seconds_total /m);
  });

  it('gives the same records processed in GET /jobs/:id details', () => {
    const coordinator = newCoordinator();
    const job = fakeJob(coordinator, 'job-1', { 'src#0': [0, 300], 'map#0': [140, 420] });
    const tasks = job.details().tasks as { taskId: string; recordsProcessed: number }[];
    expect(Object.fromEntries(tasks.map((t) => [t.taskId, t.recordsProcessed]))).toEqual({ 'src#0': 300, 'map#0': 140, 'map#1': 0 });
  });

  it('a non-source task with no records in processed none, whatever it emitted', async () => {
    const coordinator = newCoordinator();
    fakeJob(coordinator, 'job-1', { 'map#0': [0, 5] });
    expect(await createMetrics(coordinator).render()).toContain('mobius_task_records_processed{job="job-1",job_name="word count",task="map#0",vertex="Map \\"words\\""} 0');
  });

  it('reads the latest counts at each scrape and drops the series of jobs that ended', async () => {
    const coordinator = newCoordinator();
    const metrics = createMetrics(coordinator);
    const job = fakeJob(coordinator, 'job-1', { 'map#0': [10, 10] });
    expect(await metrics.render()).toContain('task="map#0",vertex="Map \\"words\\""} 10\n');
    const task = job.tasks.get('map#0')!;
    task.metrics = { ...task.metrics!, recordsIn: 25 };
    expect(await metrics.render()).toContain('mobius_task_records_processed{job="job-1",job_name="word count",task="map#0",vertex="Map \\"words\\""} 25');

    job.settle('FINISHED');
    const after = await metrics.render();
    expect(after).not.toContain('job="job-1"');
    expect(after).toContain('mobius_jobs{state="FINISHED"} 1');
    expect(after).toContain('mobius_jobs{state="RUNNING"} 0');
  });

  it('counts jobs by state and registered workers', async () => {
    const coordinator = newCoordinator();
    fakeJob(coordinator, 'a', {});
    fakeJob(coordinator, 'b', {});
    coordinator.workers.set('w1', { id: 'w1', endpoint: 'tcp://127.0.0.1:1', slots: 4, pid: 1, lastHeartbeat: 0, registeredAt: 0, running: [] });
    const text = await createMetrics(coordinator).render();
    expect(text).toContain('mobius_jobs{state="RUNNING"} 2');
    expect(text).toContain('mobius_jobs{state="FAILED"} 0');
    expect(text).toMatch(/^mobius_workers 1$/m);
    expect(text).toMatch(/^mobius_stale_task_attempts_fenced_total 0$/m);
    coordinator.staleAttemptsFenced = 3;
    expect(await createMetrics(coordinator).render()).toMatch(/^mobius_stale_task_attempts_fenced_total 3$/m);
  });

  it('each coordinator has its own registry: two in one process do not collide', async () => {
    const one = newCoordinator();
    const two = newCoordinator();
    fakeJob(one, 'job-1', { 'map#0': [1, 1] });
    const [a, b] = [createMetrics(one), createMetrics(two)];
    expect(a.registry).not.toBe(b.registry);
    expect(await a.render()).toContain('job="job-1"');
    expect(await b.render()).not.toContain('job="job-1"');
  });
});

describe('GET /metrics', () => {
  let coordinator: Coordinator;
  let server: Server;
  let url = '';

  beforeAll(async () => {
    coordinator = new Coordinator({ port: 0, token: 's3cret', logger: silentLogger });
    await coordinator.start();
    server = createHttpApi(coordinator, silentLogger);
    url = `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}`;
  });
  afterAll(async () => {
    server.close();
    await coordinator.stop();
  });

  it('answers the Prometheus text format with the token', async () => {
    fakeJob(coordinator, 'job-http', { 'src#0': [0, 7] });
    const res = await fetch(new URL('/metrics', url), { headers: { authorization: 'Bearer s3cret' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('mobius_task_records_processed{job="job-http",job_name="word count",task="src#0",vertex="Source: lines"} 7');
    expect(text).toMatch(/^mobius_workers 0$/m);
  });

  it('is 401 without the token or with a wrong one', async () => {
    expect((await fetch(new URL('/metrics', url))).status).toBe(401);
    const wrong = await fetch(new URL('/metrics', url), { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });
});

describe('GET /metrics without a token configured', () => {
  it('needs no Authorization header', async () => {
    const coordinator = newCoordinator();
    const server = createHttpApi(coordinator, silentLogger);
    try {
      const port = await listen(server, '127.0.0.1', 0);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# TYPE mobius_jobs gauge');
    } finally {
      server.close();
    }
  });
});
