import type { TaskMetrics } from '@mobius/interface';
import type { JobMaster } from '../job-master.js';
import { AutoscalerLoop, type AutoscaledJob, type LoopTimer } from './autoscaler-loop.js';
import { autoscalerOptions } from './autoscaler-options.js';

/** Why `job` cannot be evaluated or rescaled now, in the words of a skipped event. */
function blocker(job: JobMaster): string | undefined {
  if (job.cancelling) return 'the job is being cancelled';
  if (job.state !== 'RUNNING' || !job.deployed) return `the job is ${job.state === 'RUNNING' ? 'deploying' : job.state}`;
  if (job.rescaling.active) return 'a rescale is in progress';
  if (job.restarting || job.recoveries.busy) return 'a recovery is in progress';
  return undefined;
}

/**
 * The autoscaler loop of a job master, on the job's `autoscaler.*` options (a ConfigError naming
 * the key when they are inconsistent). The figures are `taskMetrics()` when given (embedded: its
 * gateway's), else what the job's tasks last reported (`JobTask.metrics`: a cluster's
 * heartbeats); either way only the current attempt of each task counts.
 */
export function autoscalerLoopOf(job: JobMaster, taskMetrics?: () => readonly TaskMetrics[], timer?: LoopTimer): AutoscalerLoop {
  const reported = (): readonly TaskMetrics[] => [...job.tasks.values()].flatMap((t) => (t.metrics === undefined ? [] : [t.metrics]));
  const read = taskMetrics ?? reported;
  const adapter: AutoscaledJob = {
    id: job.id,
    get plan() {
      return job.plan;
    },
    blocker: () => blocker(job),
    generation: () => job.attempt,
    taskMetrics: () => read().filter((m) => job.tasks.get(m.taskId)?.attempt === m.attempt),
    freeSlots: () => job.scheduler.freeSlots(),
    rescale: (vertexId, parallelism) => job.rescaling.rescale(vertexId, parallelism, 'autoscaler'),
  };
  return new AutoscalerLoop({ job: adapter, options: autoscalerOptions(job.plan.config), logger: job.logger, ...(timer !== undefined ? { timer } : {}) });
}
