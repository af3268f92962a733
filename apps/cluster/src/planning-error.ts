import { MobiusError } from '@mobius/interface';

/** How a failed plan of a submitted job is answered: the HTTP status, code and message. */
export interface PlanningRefusal {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

/**
 * The answer to a submission whose planning child failed. The job's faults (an exit, a hang, an
 * exception, no job submitted) are the submitter's: 400 with the planner's code. A full planning
 * queue or a child that could not start is the coordinator's state, not the job's: 503, retry.
 */
export function planningError(e: unknown): PlanningRefusal {
  const code = e instanceof MobiusError ? e.code : 'INVALID_JOB';
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'PLAN_QUEUE_FULL' || code === 'PLAN_FAILED') return { code, message, status: 503 };
  if (code === 'PLAN_TIMEOUT' || code === 'JOB_EXITED') return { code, message, status: 400 };
  return { code: 'INVALID_JOB', message: `the job bundle could not be planned: ${message}`, status: 400 };
}
