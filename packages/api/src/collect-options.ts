import { MobiusError } from '@mobius/interface';

/** Options of `executeAndCollect()`. */
export interface CollectOptions {
  /** The job's name. Default `job`, as `execute()`. */
  readonly jobName?: string;
  /** Return once this many records arrived, and cancel the job (Flink's `executeAndCollect(limit)`). */
  readonly limit?: number;
}

/** The options of an `executeAndCollect(jobName | options)` call, checked. */
export function collectOptions(arg: string | CollectOptions | undefined): { readonly jobName: string; readonly limit: number | undefined } {
  if (arg === undefined) return { jobName: 'job', limit: undefined };
  if (typeof arg === 'string') return { jobName: arg, limit: undefined };
  if (typeof arg !== 'object' || arg === null) {
    throw new MobiusError('COLLECT_INVALID_OPTIONS', `executeAndCollect() takes a job name or { jobName, limit }, got ${arg === null ? 'null' : typeof arg}`);
  }
  const { jobName, limit } = arg;
  if (jobName !== undefined && typeof jobName !== 'string') {
    throw new MobiusError('COLLECT_INVALID_OPTIONS', `executeAndCollect(): jobName must be a string, got ${typeof jobName}`);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new MobiusError('COLLECT_INVALID_OPTIONS', `executeAndCollect(): limit must be an integer of at least 1, got ${String(limit)}`);
  }
  return { jobName: jobName ?? 'job', limit };
}
