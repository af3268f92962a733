import { MobiusError } from '@mobius/interface';

/** Codes of scheduler errors other than `INSUFFICIENT_SLOTS` (which has its own class in `@mobius/interface`). */
export type SchedulerErrorCode = 'INVALID_WORKER' | 'JOB_ALREADY_PLACED' | 'UNKNOWN_JOB' | 'UNKNOWN_TASK' | 'INVALID_PLAN';

/** A scheduler call that names a bad worker, job, task or plan; the message names the offending id. */
export class SchedulerError extends MobiusError {
  constructor(code: SchedulerErrorCode, message: string) {
    super(code, message);
  }
}
