import { MobiusError } from '@mobius/interface';
import { ClusterError } from './coordinator.js';
import type { ClusterJob } from './cluster-job.js';
import { excerpt } from './http-body.js';

/** The body of `POST /jobs/:id/rescale`. */
export interface RescaleRequest {
  /** The operator's id, uid or name (a chained operator rescales with its chain). */
  readonly operator: string;
  readonly parallelism: number;
}

/** What `POST /jobs/:id/rescale` answers with 202: the rescale's id (its event's, on `GET /jobs/:id/events`). */
export interface RescaleAccepted {
  readonly id: string;
  readonly jobId: string;
  readonly operator: string;
  readonly parallelism: number;
}

/** Checks a parsed body; a bad one is a 400 that says what is wrong. */
export function rescaleRequestOf(body: unknown): RescaleRequest {
  const b = body as { operator?: unknown; parallelism?: unknown } | null;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new ClusterError('BAD_REQUEST', 'the body must be a JSON object { "operator": "<id, uid or name>", "parallelism": N }', 400);
  if (typeof b.operator !== 'string' || b.operator.length === 0 || b.operator.length > 200) {
    throw new ClusterError('BAD_REQUEST', "'operator' must be the operator's id, uid or name (a non-empty string of at most 200 characters)", 400);
  }
  if (typeof b.parallelism !== 'number' || !Number.isInteger(b.parallelism) || b.parallelism < 1) {
    throw new ClusterError('PLAN_INVALID_PARALLELISM', `'parallelism' must be an integer of at least 1, got ${excerpt(JSON.stringify(b.parallelism) ?? 'nothing')}`, 400);
  }
  return { operator: b.operator, parallelism: b.parallelism };
}

/** HTTP status of each refusal: the request can never succeed (400), or not now (409). */
const STATUS: Readonly<Record<string, number>> = {
  PLAN_UNKNOWN_OPERATOR: 400,
  PLAN_INVALID_PARALLELISM: 400,
  PLAN_MAX_PARALLELISM: 400,
  RESCALE_UNSUPPORTED: 400,
  RESCALE_UNCHANGED: 400,
  RESCALE_NO_SLOTS: 409,
  RESCALE_CONFLICT: 409,
  JOB_NOT_RUNNING: 409,
};

/**
 * Starts a live rescale of the job (see "Live rescaling" in `@mobius/jobmaster`) and returns at
 * once with its id; the rescale goes on in the background and ends as an event. A refusal
 * throws a ClusterError with the status above.
 */
export function startRescale(job: ClusterJob, request: RescaleRequest): RescaleAccepted {
  const master = job.jobMaster;
  if (master === undefined || job.terminal) throw new ClusterError('JOB_NOT_RUNNING', `job ${job.id} is ${job.state}: only a running job can be rescaled`, 409);
  try {
    const { id } = master.rescaling.start(request.operator, request.parallelism, 'user');
    return { id, jobId: job.id, operator: request.operator, parallelism: request.parallelism };
  } catch (e) {
    if (e instanceof MobiusError && e.code !== undefined) throw new ClusterError(e.code, e.message, STATUS[e.code] ?? 400);
    throw e;
  }
}
