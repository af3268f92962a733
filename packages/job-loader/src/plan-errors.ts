import { MobiusError } from '@mobius/interface';

/** Planning a job took longer than its limit (`job.plan.timeout.ms`); the planning child was killed. */
export class PlanTimeoutError extends MobiusError {
  constructor(readonly timeoutMs: number) {
    super('PLAN_TIMEOUT', `planning the job took longer than job.plan.timeout.ms (${timeoutMs} ms): its module still had not submitted a job, so the planning process was killed; a job module must build its graph quickly when it is imported`);
  }
}

/** The planning child ended before it handed over a job: the job called process.exit, crashed or ran out of memory. */
export class JobExitedError extends MobiusError {
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
  ) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${String(exitCode)}`;
    super('JOB_EXITED', `the job module ${how} while it was being planned, before it submitted a job${stderrTail === '' ? ' (no stderr)' : `; the end of its stderr:\n${stderrTail}`}`);
  }
}

/** Too many submissions are waiting to be planned; try again later (HTTP 503). */
export class PlanQueueFullError extends MobiusError {
  constructor(readonly limit: number) {
    super('PLAN_QUEUE_FULL', `too many jobs are waiting to be planned (queue limit ${limit}): try again later`);
  }
}
