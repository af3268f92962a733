import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type ExecutionPlan, type PlanTask, type TaskMetrics, type TaskRunState } from '@mobius/interface';
import { ClusterJob } from './cluster-job.js';
import { Coordinator } from './coordinator.js';
import { createMetrics } from './metrics.js';

/** Source `src` (1 task) → `map` (2 tasks). */
function plan(): ExecutionPlan {
  const task = (vertexId: string, index: number): PlanTask => ({ id: `${vertexId}#${index}`, vertexId, index, keyGroups: { start: 0, end: 127 } });
  return {
    jobName: 'load',
    graphHash: 'h',
    maxParallelism: 128,
    config: {},
    operators: [
      { id: 'op-src', name: 'lines', kind: 'source', parallelism: 1, vertexId: 'src', config: {}, keyed: false },
      { id: 'op-map', name: 'slow', kind: 'map', parallelism: 2, vertexId: 'map', config: {}, keyed: false },
    ],
    vertices: [
      { id: 'src', name: 'lines', operatorIds: ['op-src'], parallelism: 1 },
      { id: 'map', name: 'slow', operatorIds: ['op-map'], parallelism: 2 },
    ],
    edges: [{ id: 'op-src->op-map', sourceOperator: 'op-src', targetOperator: 'op-map', sourceVertex: 'src', targetVertex: 'map', partition: 'rebalance', chained: false, inputIndex: 0 }],
    tasks: [task('src', 0), task('map', 0), task('map', 1)],
    channels: [],
  };
}

const busy = (b: number, rate: number): Partial<TaskMetrics> => ({
  busyTimeMsPerSecond: b,
  backPressuredTimeMsPerSecond: 0,
  idleTimeMsPerSecond: 1000 - b,
  recordsInPerSecond: rate,
  recordsOutPerSecond: rate,
  trueProcessingRate: (rate * 1000) / b,
  trueOutputRate: (rate * 1000) / b,
});

const coordinators: Coordinator[] = [];
afterEach(async () => {
  for (const c of coordinators.splice(0)) {
    c.jobs.clear();
    await c.stop();
  }
});

function jobWith(load: Record<string, [TaskRunState, Partial<TaskMetrics>]>): { coordinator: Coordinator; job: ClusterJob } {
  const coordinator = new Coordinator({ port: 0, logger: silentLogger });
  coordinators.push(coordinator);
  const job = new ClusterJob('job-1', 'load', plan(), 'export {};');
  job.state = 'RUNNING';
  for (const t of job.plan.tasks) {
    const [state, figures] = load[t.id];
    job.tasks.set(t.id, { taskId: t.id, workerId: 'w1', attempt: 0, state, metrics: { taskId: t.id, vertexName: t.vertexId, recordsIn: 1, recordsOut: 1, attempt: 0, ...figures } });
  }
  coordinator.jobs.set(job.id, job);
  return { coordinator, job };
}

describe('load on GET /jobs/:id and /metrics', () => {
  it('shows running tasks\' figures, nulls for a task that is not running, and sums per operator', async () => {
    // map#1 finished: its last report still holds figures, which no longer apply.
    const { coordinator, job } = jobWith({ 'src#0': ['RUNNING', busy(100, 900)], 'map#0': ['RUNNING', busy(900, 450)], 'map#1': ['FINISHED', busy(500, 100)] });
    const details = job.details() as { tasks: Record<string, unknown>[]; operators: Record<string, unknown>[] };
    expect(details.tasks.find((t) => t.taskId === 'map#0')).toMatchObject({ busyTimeMsPerSecond: 900, trueProcessingRate: 500 });
    expect(details.tasks.find((t) => t.taskId === 'map#1')).toMatchObject({ busyTimeMsPerSecond: null, trueProcessingRate: null, recordsIn: 1 });
    expect(details.operators.find((o) => o.operatorId === 'op-map')).toMatchObject({ tasksReporting: 1, busyTimeMsPerSecond: 900, recordsInPerSecond: 450, trueProcessingRate: 500 });

    const text = await createMetrics(coordinator).render();
    expect(text).toContain('mobius_task_busy_time_ms_per_second{job="job-1",job_name="load",task="map#0",vertex="slow"} 900');
    expect(text).toContain('mobius_task_true_processing_rate{job="job-1",job_name="load",task="src#0",vertex="lines"} 9000');
    expect(text.split('\n').filter((l) => l.startsWith('mobius_task_busy_time_ms_per_second{') && l.includes('task="map#1"'))).toEqual([]);
    expect(text).toContain('mobius_operator_true_processing_rate{job="job-1",job_name="load",operator="op-map",name="slow"} 500');
    expect(text).toContain('mobius_operator_busy_time_ms_per_second{job="job-1",job_name="load",operator="op-src",name="lines"} 100');
  });
});
