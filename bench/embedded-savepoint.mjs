// Stop-with-savepoint and start-from-savepoint for an embedded job: the baseline of
// rescale-bench.mjs ("the Flink way" of rescaling). Embedded mode offers neither as an API yet;
// the cluster does (`POST /jobs/:id/stop {"savepoint": true}`, then `POST /jobs` with
// `fromSavepoint`). This does what those two do, with the engine's own pieces: the job master's
// `savepoint()` (the job master is a private field of the embedded job handle, reachable from
// JavaScript), then `cancel()`; and for the next job, the job master's `restore` option, which
// is what the cluster's `fromSavepoint` sets (the handles of every task of the savepoint, each
// new task keeping the key groups it owns).
import { JobMaster } from '@mobius/jobmaster';

/** The restore of the next job master started under that job name. */
let pending;
const start = JobMaster.prototype.start;
JobMaster.prototype.start = function (...args) {
  if (pending !== undefined && this.name === pending.name) {
    this.restore = pending.restore;
    pending = undefined;
  }
  return start.apply(this, args);
};

/** The job master behind an embedded job handle (`LocalJob`). */
export function jobMasterOf(job) {
  const master = job.master;
  if (!(master instanceof JobMaster)) throw new Error(`embedded-savepoint: the job handle has no job master (LocalJob.master); the embedded runner changed`);
  return master;
}

/**
 * Takes a savepoint of the running job, then cancels it; resolves with the savepoint's metadata
 * and when it completed (epoch ms).
 */
export async function stopWithSavepoint(job) {
  const metadata = await jobMasterOf(job).savepoint();
  const savedAt = Date.now();
  await job.cancel();
  return { metadata, savedAt };
}

/**
 * Submits the job built on `ctx` as `name`, restoring savepoint `metadata` of the checkpoint
 * store in `dir` (the job's `checkpoint.dir`).
 */
export async function submitFromSavepoint(ctx, name, metadata, dir) {
  pending = { name, restore: { dir, handles: Object.values(metadata.tasks) } };
  try {
    return await ctx.submit(name);
  } finally {
    pending = undefined;
  }
}
