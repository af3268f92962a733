import { describe, expect, it } from 'vitest';
import { MobiusError } from '@mobius/interface';
import { JobExitedError, PlanQueueFullError, PlanTimeoutError } from '@mobius/job-loader';
import { planningError } from './planning-error.js';

describe('planningError', () => {
  it("answers a job's own faults with 400 and the planner's code", () => {
    expect(planningError(new PlanTimeoutError(5000))).toMatchObject({ code: 'PLAN_TIMEOUT', status: 400, message: expect.stringContaining('job.plan.timeout.ms (5000 ms)') });
    expect(planningError(new JobExitedError(2, null, 'usage: x'))).toMatchObject({ code: 'JOB_EXITED', status: 400, message: expect.stringContaining('usage: x') });
  });

  it("answers a job's exception, or no job at all, as INVALID_JOB with the job's message", () => {
    expect(planningError(new Error('bad arguments'))).toEqual({ code: 'INVALID_JOB', status: 400, message: 'the job bundle could not be planned: bad arguments' });
    expect(planningError(new MobiusError('NO_JOB', 'job.mjs did not submit a job'))).toMatchObject({ code: 'INVALID_JOB', status: 400 });
  });

  it("answers the coordinator's own state (a full queue) with 503", () => {
    expect(planningError(new PlanQueueFullError(32))).toMatchObject({ code: 'PLAN_QUEUE_FULL', status: 503 });
  });
});
