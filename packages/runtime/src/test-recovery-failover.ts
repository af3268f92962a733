// A single-task failover of one reduce task of the test-recovery-job.ts job, driven step by step as
// the coordinator would, and the checks on what the new attempt regenerated.
import { type Determinant, type TaskSnapshot } from '@mobius/interface';
import { expect } from 'vitest';
import { Task } from './task.js';
import { JOB, type Job, startJob, checkpoint, flow, until, flowHeld, finish, recordsBySeq } from './test-recovery-job.js';

export const PHASES = {
  /** Before checkpoint 1: 80 records from each source. */
  before: [
    [0, 80],
    [1, 80],
  ],
  /** After checkpoint 1, before the failure: skewed runs of one input at a time. */
  after: [
    [1, 160],
    [0, 120],
    [1, 200],
    [0, 136],
  ],
  /** Then, with the sink held (it has only part of the reduce tasks' output when one dies). */
  held: [
    [1, 264],
    [0, 200],
    [1, 296],
  ],
} as const;

export interface Failover {
  readonly job: Job;
  readonly reduceId: string;
  readonly determinants: readonly Determinant[];
  readonly snapshot: TaskSnapshot;
  readonly replayed: number;
  readonly old: Task;
  readonly restarted: Task;
  /** Plan id of the channel from the reduce task to the sink. */
  readonly outChannel: string;
  /** Records the sink had when the reduce task died. */
  readonly sinkHad: number;
  /** Sequence number → record, of what the sink took from the dead attempt. */
  readonly sinkRead: Map<number, unknown>;
}

export interface FailureOptions {
  /** The new attempt's number (the dead one's is one less). Default 1. */
  readonly attempt?: number;
  /** The checkpoint it restores. Default 1. */
  readonly checkpointId?: number;
  /** A checkpoint in flight at the failure: aborted on every live task, and stale for the new attempt. */
  readonly abort?: number;
  /** The new attempt's log, from the sink task (default: the sink's copy). */
  readonly determinantsFor?: (sink: Task) => readonly Determinant[];
  /** The sink runs on between handing over the determinants and the rewire (as while the coordinator deploys the new attempt). */
  readonly sinkGoesOn?: boolean;
}

/**
 * Reduce task `reduceId` dies (only it: every other task keeps running and keeps its state);
 * its new attempt restores the checkpoint with the log the sink kept of it, and the sources
 * and the sink re-open their channels to it. Then the sink is let go on.
 */
export async function failTask(job: Job, reduceId: string, options: FailureOptions = {}): Promise<Failover> {
  const attempt = options.attempt ?? 1;
  const checkpointId = options.checkpointId ?? 1;
  const determinantsFor = options.determinantsFor ?? ((sink: Task) => sink.determinantsOf(reduceId));
  const sink = job.tasks.get('out#0')!;
  const sinkHad = job.out.records.length;

  const old = job.tasks.get(reduceId)!;
  old.cancel();
  await job.runs.get(old);
  expect(old.state).toBe('CANCELED');
  job.runs.delete(old);
  if (options.abort !== undefined) for (const t of job.tasks.values()) if (t !== old) t.notifyCheckpointAborted(options.abort);

  const outChannel = job.plan.channels.find((c) => c.sourceTask === reduceId && c.targetTask === 'out#0')!.id;
  const oldOut = job.transport.channels.get(`${JOB}/${attempt - 1}.0/${outChannel}`)!;
  const snapshot = job.checkpoints.of(checkpointId, reduceId);
  // A copy, as the coordinator gets it: the sink's own copy goes on changing.
  const determinants = [...determinantsFor(sink)];
  if (options.sinkGoesOn === true) {
    // The sink goes on while the new attempt is deployed: it takes all the other reduce task
    // sent, but not the dead attempt's frames still in its channel (it handed over their log).
    const queued = oldOut.queued;
    expect(queued).toBeGreaterThan(0);
    job.out.release();
    const other = [...job.tasks.values()].find((t) => t.vertex.operatorIds[0] === 'sum' && t.id !== reduceId)!;
    const otherCid = job.plan.channels.find((c) => c.sourceTask === other.id && c.targetTask === 'out#0')!.id;
    const otherOut = job.transport.channels.get(`${JOB}/0.0/${otherCid}`)!;
    const sent = (): number => otherOut.sent.reduce((n, f) => n + f.count, 0);
    await until(
      () => other.metrics().recordsOut === other.recordsIn && sent() === other.recordsIn && otherOut.queued === 0,
      'the sink to take the other output'
    );
    expect(job.out.records.length).toBeGreaterThan(sinkHad);
    expect(oldOut.queued).toBe(queued);
  }
  // What of the dead attempt's output the sink took (the rest is dropped at the rewire).
  const sinkRead = recordsBySeq(oldOut.sent.slice(0, oldOut.sent.length - oldOut.queued));

  const attempts = Object.fromEntries(job.plan.tasks.map((t) => [t.id, t.id === reduceId ? attempt : 0]));
  const restarted = new Task(
    {
      jobId: JOB,
      plan: job.plan,
      graph: job.graph,
      taskId: reduceId,
      attempt,
      attempts,
      restore: [snapshot],
      determinants,
      staleCheckpointsThrough: options.abort ?? checkpointId,
    },
    job.services
  );
  job.tasks.set(reduceId, restarted);
  let replayed = 0;
  const endpoint = job.transport.endpoint;
  for (const t of job.tasks.values()) {
    if (t === restarted || t.vertex.operatorIds[0] === 'sum') continue; // the other reduce task has no channel to it
    replayed += t.rewire({ [reduceId]: { attempt, endpoint } }, () => endpoint);
  }
  const run = restarted.run();
  run.catch(() => undefined);
  job.runs.set(restarted, run);
  job.out.release();
  return {
    job,
    reduceId,
    determinants,
    snapshot,
    replayed,
    old,
    restarted,
    outChannel,
    sinkHad,
    sinkRead,
  };
}

/** The job with a failure of reduce task `reduceId` after checkpoint 1 and the skewed flow, run to its end. */
export async function runWithFailure(reduceId: string, options: FailureOptions = {}): Promise<Failover> {
  const job = startJob();
  await flow(job, PHASES.before);
  await checkpoint(job, 1);
  await flow(job, PHASES.after);
  await flowHeld(job, PHASES.held);
  const failover = await failTask(job, reduceId, options);
  await finish(job);
  return failover;
}

export async function runWithoutFailure(): Promise<Job> {
  const job = startJob();
  await flow(job, PHASES.before);
  await checkpoint(job, 1);
  await flow(job, PHASES.after);
  await flowHeld(job, PHASES.held);
  await finish(job);
  return job;
}

/** The new attempt regenerated what the sink had taken from the dead one, record for record, from the checkpoint's sequence number. */
export function expectRegenerated(f: Failover, attempt = 1, ended = true): void {
  const from = f.snapshot.outputs[f.outChannel];
  const frames = f.job.transport.channels.get(`${JOB}/${attempt}.0/${f.outChannel}`)!.sent;
  expect(frames[0].seq).toBe(from);
  const sent = recordsBySeq(frames);
  const regenerated = [...f.sinkRead.keys()].filter((seq) => seq >= from);
  expect(regenerated.length).toBeGreaterThan(0);
  for (const seq of regenerated) expect(sent.get(seq), `record ${seq}`).toEqual(f.sinkRead.get(seq));
  if (ended) expect(frames.at(-1)!.kind).toBe('end');
}
