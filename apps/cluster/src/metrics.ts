import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobState } from '@mobius/interface';
import type { ClusterJob, ClusterTask } from './cluster-job.js';
import type { Coordinator } from './coordinator.js';
import { registerLoadGauges } from './load-gauges.js';
import { finiteOrNaN } from './task-load-fields.js';


const JOB_STATES: readonly JobState[] = ['CREATED', 'RUNNING', 'FINISHED', 'CANCELED', 'FAILED'];

export interface CoordinatorMetrics {
  /** The coordinator's own registry (never prom-client's global one). */
  readonly registry: Registry;
  /** The Prometheus text exposition, with gauges read from the coordinator at this moment. */
  render(): Promise<string>;
}

/**
 * Prometheus metrics of a coordinator, on a registry of its own (several coordinators in one
 * process do not collide). Every gauge is reset and set again from the coordinator's state at
 * each scrape, so the series of jobs that ended (and of tasks that were replaced) disappear.
 * Per-task and per-job series cover non-terminal jobs only.
 */
export function createMetrics(coordinator: Coordinator): CoordinatorMetrics {
  const registry = new Registry();
  const liveJobs = () => [...coordinator.jobs.values()].filter((j) => !j.terminal);
  /** taskId → the name of its vertex, from the job's plan (falling back to what the worker reported). */
  const vertexNames = (job: ClusterJob): ((task: ClusterTask) => string) => {
    const names = new Map(job.plan.vertices.map((v) => [v.id, v.name]));
    const vertexOf = new Map(job.plan.tasks.map((t) => [t.id, t.vertexId]));
    return (task) => {
      const vertexId = vertexOf.get(task.taskId);
      return (vertexId === undefined ? undefined : names.get(vertexId)) ?? task.metrics?.vertexName ?? vertexId ?? '';
    };
  };

  /** A gauge with one series per task of every live job, labelled with its vertex (none for a task whose value is undefined). */
  const perTaskGauge = (name: string, help: string, value: (job: ClusterJob, task: ClusterTask) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['job', 'job_name', 'task', 'vertex'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const job of liveJobs()) {
          const vertex = vertexNames(job);
          for (const t of job.tasks.values()) {
            const v = value(job, t);
            if (v !== undefined) this.set({ job: job.id, job_name: job.name, task: t.taskId, vertex: vertex(t) }, v);
          }
        }
      },
    });
  };
  perTaskGauge(
    'mobius_task_records_processed',
    'Records a task processed, as last reported by its worker (records in; records out for a source task)',
    (job, t) => job.recordsProcessed(t),
  );
  perTaskGauge('mobius_task_current_watermark', "A task's current event-time watermark in ms (NaN before the first)", (_job, t) => finiteOrNaN(t.metrics?.currentWatermark));
  perTaskGauge('mobius_task_watermark_lag_ms', "Now minus a task's current watermark, in ms (NaN before the first)", (_job, t) => finiteOrNaN(Date.now() - (t.metrics?.currentWatermark ?? NaN)));
  perTaskGauge('mobius_task_late_records_dropped', 'Records a task dropped because they came too late for their window', (_job, t) => t.metrics?.lateRecordsDropped ?? 0);
  perTaskGauge('mobius_task_timers_pending', 'Event-time and processing-time timers a task holds', (_job, t) => t.metrics?.timersPending ?? 0);
  perTaskGauge('mobius_task_records_out', 'Records a task emitted, as last reported by its worker', (_job, t) => t.metrics?.recordsOut ?? 0);
  perTaskGauge(
    'mobius_task_stalled',
    'A task that holds its worker\'s thread with input in hand and processed no record for the heartbeat timeout (1) or not (0)',
    (job, t) => (coordinator.stalls.isStalled(job.id, t.taskId, t.attempt) ? 1 : 0),
  );

  registerLoadGauges(registry, liveJobs, perTaskGauge);

  new Gauge({
    name: 'mobius_task_attempt',
    help: 'The attempt (global restore number) a task runs in',
    labelNames: ['job', 'job_name', 'task'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const job of liveJobs()) {
        for (const t of job.tasks.values()) this.set({ job: job.id, job_name: job.name, task: t.taskId }, t.attempt);
      }
    },
  });

  new Gauge({
    name: 'mobius_jobs',
    help: 'Jobs the coordinator knows, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>(JOB_STATES.map((s) => [s, 0]));
      for (const job of coordinator.jobs.values()) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  new Gauge({
    name: 'mobius_workers',
    help: 'Registered workers',
    registers: [registry],
    collect() {
      this.set(coordinator.workers.size);
    },
  });

  new Gauge({
    name: 'mobius_job_restarts',
    help: 'Restarts (global restores from a checkpoint) of a job',
    labelNames: ['job', 'job_name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const job of liveJobs()) this.set({ job: job.id, job_name: job.name }, job.restarts);
    },
  });

  new Counter({
    name: 'mobius_stale_task_attempts_fenced_total',
    help: 'Stale task attempts cancelled on workers that registered again (a worker declared lost that came back, or tasks of an ended job)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(coordinator.staleAttemptsFenced);
    },
  });

  new Counter({
    name: 'mobius_task_stalls_total',
    help: 'Times a task became stalled (held its worker\'s thread with input in hand, no record processed)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(coordinator.stalls.stallsTotal);
    },
  });

  new Counter({
    name: 'mobius_task_stall_failures_total',
    help: 'Stalled tasks failed (and recovered) for passing their job\'s task.stall.timeout.ms',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(coordinator.stalls.stallFailuresTotal);
    },
  });

  collectDefaultMetrics({ register: registry, prefix: 'mobius_coordinator_' });

  return { registry, render: () => registry.metrics() };
}
