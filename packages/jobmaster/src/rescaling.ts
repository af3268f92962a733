import { MobiusError, taskIndexForKeyGroup, type ExecutionPlan, type RescaleChannelChanges, type RescaleEvent, type RescalePreparation } from '@mobius/interface';
import { rescaleDiff, rescalePlan, vertexOfOperator, type ParallelismOverrides, type RescaleDiff } from '@mobius/planner';
import type { JobMaster } from './job-master.js';

/** Rescale events kept per job (the oldest go first). */
const MAX_EVENTS = 1000;

/** Key groups whose owning task index differs between the two parallelisms. */
function keyGroupsMoved(maxParallelism: number, from: number, to: number): number {
  let moved = 0;
  for (let kg = 0; kg < maxParallelism; kg++) if (taskIndexForKeyGroup(kg, from, maxParallelism) !== taskIndexForKeyGroup(kg, to, maxParallelism)) moved++;
  return moved;
}

/** What a rescale waits for: every new task running. */
interface Waiting {
  readonly attempts: Map<string, number>;
  readonly resolve: () => void;
  readonly reject: (reason: Error) => void;
}

/**
 * Live rescaling of one vertex while every other task keeps running (the seed's third promise;
 * see "Live rescaling" in the README). A rescale is a special checkpoint: the vertex's old tasks
 * snapshot at its barrier and stop, their neighbours switch channels at that barrier, and new
 * tasks at the new parallelism restore the key groups they own from those snapshots. One
 * rescale at a time, never during a recovery; a failure during one restores the job globally at
 * the parallelism it had (the event says so).
 */
export class Rescaling {
  /** Vertex id → parallelism: the rescales so far (every process plans with them). */
  overrides: ParallelismOverrides = {};
  readonly events: RescaleEvent[] = [];
  private running = false;
  /** Fails the rescale in progress at its next step (see `abandon`). */
  private abort: ((reason: Error) => void) | undefined;
  /** Rescales started so far (their ids count up). */
  private started = 0;
  private waiting: Waiting | undefined;

  constructor(private readonly job: JobMaster) {}

  /** A rescale is in progress: a failure now is recovered globally, at the old parallelism. */
  get active(): boolean {
    return this.running;
  }

  /** Sets the parallelism of `operator` (id, uid or name) to `parallelism`; resolves once the new tasks run. */
  async rescale(operator: string, parallelism: number, trigger: RescaleEvent['trigger'] = 'user'): Promise<RescaleEvent> {
    return this.start(operator, parallelism, trigger).done;
  }

  /**
   * Checks the request and starts the rescale: throws at once (MobiusError) when it cannot be
   * done (unknown operator, bad parallelism, no free slots, another rescale or a recovery running);
   * else returns its id (its event's) and the promise of its event.
   */
  start(operator: string, parallelism: number, trigger: RescaleEvent['trigger'] = 'user'): { readonly id: string; readonly done: Promise<RescaleEvent> } {
    const job = this.job;
    if (job.state !== 'RUNNING' || !job.deployed || job.cancelling) {
      throw new MobiusError('JOB_NOT_RUNNING', `job ${job.id} is ${job.cancelling ? 'being cancelled' : job.state}: only a running job can be rescaled`);
    }
    if (this.running || job.restarting || job.recoveries.busy) {
      throw new MobiusError('RESCALE_CONFLICT', `job ${job.id}: ${this.running ? 'another rescale' : 'a recovery'} is in progress; try again once it is done`);
    }
    const graph = job.graph;
    const prepare = job.gateway.prepareRescale?.bind(job.gateway);
    if (graph === undefined || prepare === undefined) {
      throw new MobiusError('RESCALE_UNSUPPORTED', `job ${job.id}: its task gateway cannot rescale live (it was started without the job's graph)`);
    }
    const checkpointing = job.checkpointing;
    if (checkpointing === undefined) {
      throw new MobiusError('RESCALE_UNSUPPORTED', `job ${job.id} has no checkpoint store: a rescale moves state through a checkpoint (set checkpoint.dir or checkpoint.interval.ms)`);
    }
    const vertex = vertexOfOperator(graph, job.plan, operator);
    if (job.plan.operators.some((o) => o.vertexId === vertex.id && o.kind === 'source')) {
      throw new MobiusError('RESCALE_UNSUPPORTED', `"${vertex.name}" holds a source: sources cannot be rescaled yet (their offsets are not split or merged)`);
    }
    const rescaled = rescalePlan(graph, job.plan.jobName, this.overrides, vertex.id, parallelism);
    if (rescaled.from === parallelism) throw new MobiusError('RESCALE_UNCHANGED', `"${vertex.name}" already runs at parallelism ${parallelism}`);
    // The slots the job holds count (spare slots it spread its tasks over are its to reuse).
    const held = job.scheduler.heldSlots?.(job.id) ?? job.scheduler.requiredSlots(job.plan);
    const needed = job.scheduler.requiredSlots(rescaled.plan) - Math.max(held, job.scheduler.requiredSlots(job.plan));
    const free = job.scheduler.freeSlots();
    if (needed > free) {
      throw new MobiusError('RESCALE_NO_SLOTS', `rescaling "${vertex.name}" from ${rescaled.from} to ${parallelism} needs ${needed} more slot(s), and ${free} are free`);
    }
    this.running = true;
    const id = `rescale-${++this.started}`;
    const done = this.run(id, operator, vertex.id, rescaled.plan, rescaled.overrides, rescaled.from, trigger).finally(() => (this.running = false));
    done.catch(() => undefined); // a caller that only wanted the id reads the outcome in the events
    return { id, done };
  }

  /** The job restarts or ends: the rescale in progress gives up at its next step. */
  abandon(reason: string): void {
    const e = new MobiusError('RESCALE_FAILED', `the rescale did not complete: ${reason}`);
    this.abort?.(e);
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  /** A task reported in: the rescale waiting for it goes on when all did. */
  taskRunning(taskId: string, attempt: number): void {
    const w = this.waiting;
    if (w === undefined || w.attempts.get(taskId) !== attempt) return;
    w.attempts.delete(taskId);
    if (w.attempts.size === 0) {
      this.waiting = undefined;
      w.resolve();
    }
  }

  private async run(id: string, operator: string, vertexId: string, after: ExecutionPlan, overrides: ParallelismOverrides, from: number, trigger: RescaleEvent['trigger']): Promise<RescaleEvent> {
    const job = this.job;
    const checkpointing = job.checkpointing!;
    const started = Date.now();
    const before = job.plan;
    const diff = rescaleDiff(before, after, vertexId);
    const oldIds = new Set(diff.oldTasks.map((t) => t.id));
    const to = diff.newTasks.length;
    // Key groups only mean something for a keyed vertex (a sink's state is its function's).
    const keyed = after.operators.some((o) => o.vertexId === vertexId && o.keyed);
    const aborted = new Promise<never>((_, reject) => (this.abort = reject));
    aborted.catch(() => undefined);
    // Every wait gives up when the job restarts or ends meanwhile (a lost worker may never answer).
    const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, aborted]);
    const base = { kind: 'rescale', id, time: started, operator, vertex: vertexId, from, trigger } as const;
    let checkpointId = checkpointing.nextCheckpointId;
    let committed = false;
    let pausedFrom = Date.now();
    try {
      // No periodic checkpoint while the neighbours are told what to do at the rescale barrier.
      await step(checkpointing.stop());
      checkpointId = checkpointing.nextCheckpointId;
      const attempt = ++job.attempt;
      job.scheduler.adopt(job.id, after, [...job.tasks.values()].filter((t) => !oldIds.has(t.taskId)).map((t) => ({ taskId: t.taskId, workerId: t.workerId })));
      const placements = diff.newTasks.map((t) => job.scheduler.replace(job.id, t.id));
      const attempts = Object.fromEntries(diff.newTasks.map((t) => [t.id, attempt]));
      const endpoints = job.endpointsOf(placements, after);
      await step(Promise.all([...job.workersOf()].map((w) => job.gateway.prepareRescale!(job.id, w, this.preparation(w, checkpointId, diff, attempts, endpoints)))));
      const metadata = await step(checkpointing.renew().triggerCheckpoint());
      pausedFrom = metadata.timestamp;
      await step(checkpointing.stop());

      // The new plan is the job's from here on: a failure now restores it from the rescale checkpoint.
      committed = true;
      job.plan = after;
      this.overrides = overrides;
      checkpointing.plan = after;
      for (const id of oldIds) job.tasks.delete(id);
      for (const p of placements) job.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt, state: 'DEPLOYING' });
      job.persist();
      const { restore, bytes: bytesMoved } = await step(checkpointing.restoreOf({ ...metadata, tasks: Object.fromEntries(Object.entries(metadata.tasks).filter(([id]) => oldIds.has(id))) }));
      const running = new Promise<void>((resolve, reject) => (this.waiting = { attempts: new Map(placements.map((p) => [p.taskId, attempt])), resolve, reject }));
      running.catch(() => undefined); // awaited below; a deploy failing first must not leave it unhandled
      const jobEndpoints = job.endpoints();
      const jobAttempts = job.attempts();
      const byWorker = new Map<string, string[]>();
      for (const p of placements) byWorker.set(p.workerId, [...(byWorker.get(p.workerId) ?? []), p.taskId]);
      await step(
        Promise.all(
          [...byWorker].map(([workerId, ids]) =>
            job.gateway.deploy({ jobId: job.id, workerId, tasks: ids.map((taskId) => ({ taskId, attempt })), endpoints: jobEndpoints, attempts: jobAttempts, restore, staleCheckpointsThrough: checkpointId, overrides, rescaled: true }),
          ),
        ),
      );
      await step(running);
      const ran = Date.now();
      checkpointing.renew().start();
      const event = this.keep({ ...base, to, checkpointId, durationMs: ran - started, pausedMs: Math.max(0, ran - pausedFrom), keyGroupsMoved: keyed ? keyGroupsMoved(after.maxParallelism, from, to) : 0, bytesMoved });
      job.logger.info({ jobId: job.id, ...event }, `rescaled "${operator}" from ${from} to ${to}`);
      return event;
    } catch (e) {
      // Before the new plan was taken, some neighbours may have switched channels at the barrier;
      // after it, the old tasks are gone: either way only a global restore is consistent, at the
      // parallelism the job has now (a recovery already under way does it, being global too).
      const now = Date.now();
      const at = committed ? to : from;
      const cause = e instanceof Error ? e.message : String(e);
      const reason = committed ? `the new tasks did not all start (${cause})` : `the rescale checkpoint ${checkpointId} did not complete (${cause})`;
      const failed = `${reason}: the job restores globally at parallelism ${at}${committed ? ` from the rescale checkpoint ${checkpointId}` : ''}`;
      const event = this.keep({ ...base, to: at, checkpointId, durationMs: now - started, pausedMs: committed ? Math.max(0, now - pausedFrom) : 0, keyGroupsMoved: committed && keyed ? keyGroupsMoved(after.maxParallelism, from, to) : 0, bytesMoved: 0, failed });
      job.logger.warn({ jobId: job.id, ...event }, `rescaling "${operator}" from ${from} to ${to} failed`);
      if (!job.recoveries.busy && !job.restarting && !job.terminal && !job.cancelling) await job.recoveries.restartJob(`rescale of "${operator}" failed: ${reason}`, 0);
      throw new MobiusError('RESCALE_FAILED', `rescaling "${operator}" from ${from} to ${to} failed: ${failed}`, { cause: e });
    } finally {
      this.abort = undefined;
    }
  }

  /** What worker `w` does at the barrier: its old tasks of the vertex stop, its neighbours change channels. */
  private preparation(w: string, checkpointId: number, diff: RescaleDiff, attempts: Record<string, number>, endpoints: Record<string, string>): RescalePreparation {
    const on = (taskId: string): boolean => this.job.tasks.get(taskId)?.workerId === w;
    const reconfigure: Record<string, RescaleChannelChanges> = {};
    for (const [taskId, changes] of diff.changes) if (on(taskId)) reconfigure[taskId] = changes;
    return { checkpointId, stop: diff.oldTasks.map((t) => t.id).filter(on), reconfigure, attempts, endpoints };
  }

  private keep(event: RescaleEvent): RescaleEvent {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    return event;
  }
}
