import { Gauge, type Registry } from 'prom-client';
import type { OperatorLoad } from '@mobius/jobmaster';
import type { ClusterJob, ClusterTask } from './cluster-job.js';
import type { TaskLoadField } from '@mobius/interface';
import { currentLoad, finiteOrNaN } from './task-load-fields.js';

/** Gauge name suffix → load figure of a task (see TaskMetrics). */
const TASK_GAUGES: readonly (readonly [string, TaskLoadField, string])[] = [
  ['busy_time_ms_per_second', 'busyTimeMsPerSecond', 'Ms per second a task worked, over metrics.load.window.ms'],
  ['backpressured_time_ms_per_second', 'backPressuredTimeMsPerSecond', 'Ms per second a task waited for output credit, over metrics.load.window.ms'],
  ['idle_time_ms_per_second', 'idleTimeMsPerSecond', 'Ms per second a task waited for input, over metrics.load.window.ms'],
  ['records_in_per_second', 'recordsInPerSecond', 'Records a task took in per second, over metrics.load.window.ms'],
  ['records_out_per_second', 'recordsOutPerSecond', 'Records a task emitted per second, over metrics.load.window.ms'],
  ['true_processing_rate', 'trueProcessingRate', 'Records in per second of busy time (NaN: not busy in the window)'],
  ['true_output_rate', 'trueOutputRate', 'Records out per second of busy time (NaN: not busy in the window)'],
];

/** The numeric figures of an OperatorLoad. */
type OperatorFigure = { [K in keyof OperatorLoad]: OperatorLoad[K] extends number | null ? K : never }[keyof OperatorLoad];

/** Gauge name suffix → figure of an operator (see OperatorLoad). */
const OPERATOR_GAUGES: readonly (readonly [string, OperatorFigure, string])[] = [
  ['busy_time_ms_per_second', 'busyTimeMsPerSecond', "Mean of an operator's running tasks' busy ms per second"],
  ['max_busy_time_ms_per_second', 'maxBusyTimeMsPerSecond', "Busy ms per second of an operator's busiest task"],
  ['backpressured_time_ms_per_second', 'backPressuredTimeMsPerSecond', "Mean of an operator's running tasks' backpressured ms per second"],
  ['records_in_per_second', 'recordsInPerSecond', "Sum of an operator's running tasks' records in per second"],
  ['records_out_per_second', 'recordsOutPerSecond', "Sum of an operator's running tasks' records out per second"],
  ['true_processing_rate', 'trueProcessingRate', "Sum of an operator's running tasks' true processing rates"],
];

/**
 * The load gauges of `/metrics`: `mobius_task_<figure>` per running task (labelled as the other
 * task gauges) and `mobius_operator_<figure>` per operator of a live job. A task that is not
 * running has no series.
 */
export function registerLoadGauges(
  registry: Registry,
  liveJobs: () => ClusterJob[],
  perTaskGauge: (name: string, help: string, value: (job: ClusterJob, task: ClusterTask) => number | undefined) => void,
): void {
  for (const [suffix, field, help] of TASK_GAUGES) {
    perTaskGauge(`mobius_task_${suffix}`, help, (_job, t) => {
      const m = currentLoad(t);
      return m === undefined ? undefined : finiteOrNaN(m[field]);
    });
  }
  for (const [suffix, field, help] of OPERATOR_GAUGES) {
    new Gauge({
      name: `mobius_operator_${suffix}`,
      help,
      labelNames: ['job', 'job_name', 'operator', 'name'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const job of liveJobs()) {
          for (const op of job.operatorLoads()) {
            if (op.tasksReporting > 0) this.set({ job: job.id, job_name: job.name, operator: op.operatorId, name: op.name }, finiteOrNaN(op[field]));
          }
        }
      },
    });
  }
}
