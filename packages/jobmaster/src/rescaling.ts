import { MobiusError, taskIndexForKeyGroup, type CheckpointMetadata, type ExecutionPlan, type RescaleChannelChanges, type RescaleEvent, type RescalePreparation } from '@mobius/interface';
import { rescaleDiff, rescalePlan, vertexOfOperator, type ParallelismOverrides, type RescaleDiff } from '@mobius/planner';
import type { JobMaster } from './job-master.js';

/** Rescale events kept per job (the oldest go first). */
const MAX_EVENTS = 1000;

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
    const needed = job.scheduler.requiredSlots(rescaled.plan) - job.scheduler.requiredSlots(job.plan);
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

  /** The job restarts or ends: a rescale waiting for its new tasks gives up. */
  abandon(reason: string): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(new MobiusError('RESCALE_FAILED', `the rescale did not complete: ${reason}`));
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

    // No periodic checkpoint while the neighbours are told what to do at the rescale barrier.
    await checkpointing.stop();
    const checkpointId = checkpointing.nextCheckpointId;
    const attempt = ++job.attempt;
    job.scheduler.adopt(job.id, after, [...job.tasks.values()].filter((t) => !oldIds.has(t.taskId)).map((t) => ({ taskId: t.taskId, workerId: t.workerId })));
    const placements = diff.newTasks.map((t) => job.scheduler.replace(job.id, t.id));
    const attempts = Object.fromEntries(diff.newTasks.map((t) => [t.id, attempt]));
    const endpoints = job.endpointsOf(placements, after);
    for (const w of job.workersOf()) {
      await job.gateway.prepareRescale!(job.id, w, this.preparation(w, checkpointId, diff, attempts, endpoints));
    }

    let metadata: CheckpointMetadata;
    try {
      metadata = await checkpointing.renew().triggerCheckpoint();
    } catch (e) {
      const reason = `the rescale checkpoint ${checkpointId} did not complete (${e instanceof Error ? e.message : String(e)})`;
      const failed = `${reason}: the job restores globally at parallelism ${from}`;
      this.keep({ kind: 'rescale', id, time: started, operator, vertex: vertexId, from, to: from, trigger, checkpointId, durationMs: Date.now() - started, pausedMs: 0, keyGroupsMoved: 0, bytesMoved: 0, failed });
      job.scheduler.adopt(job.id, before, [...job.tasks.values()].map((t) => ({ taskId: t.taskId, workerId: t.workerId })));
      // Some neighbours may have switched channels at the barrier: only a global restore is
      // consistent (a task failure that aborted the checkpoint is already being recovered so).
      if (!job.recoveries.busy && !job.terminal && !job.cancelling) await job.recoveries.restartJob(`rescale of "${operator}" failed: ${reason}`, 0);
      throw new MobiusError('RESCALE_FAILED', `rescaling "${operator}" from ${from} to ${after.vertices.find((v) => v.id === vertexId)!.parallelism} failed: ${reason}; the job restarts at parallelism ${from}`, { cause: e });
    }
    const pausedFrom = metadata.timestamp;
    await checkpointing.stop();

    // The new plan is the job's from here on.
    job.plan = after;
    this.overrides = overrides;
    checkpointing.plan = after;
    for (const id of oldIds) job.tasks.delete(id);
    for (const p of placements) job.tasks.set(p.taskId, { taskId: p.taskId, workerId: p.workerId, attempt, state: 'DEPLOYING' });
    const { restore, bytes: bytesMoved } = await checkpointing.restoreOf({ ...metadata, tasks: Object.fromEntries(Object.entries(metadata.tasks).filter(([id]) => oldIds.has(id))) });
    const running = new Promise<void>((resolve, reject) => (this.waiting = { attempts: new Map(placements.map((p) => [p.taskId, attempt])), resolve, reject }));
    running.catch(() => undefined); // awaited below; a deploy failing first must not leave it unhandled
    const jobEndpoints = job.endpoints();
    const jobAttempts = job.attempts();
    const byWorker = new Map<string, string[]>();
    for (const p of placements) byWorker.set(p.workerId, [...(byWorker.get(p.workerId) ?? []), p.taskId]);
    for (const [workerId, ids] of byWorker) {
      await job.gateway.deploy({
        jobId: job.id,
        workerId,
        tasks: ids.map((taskId) => ({ taskId, attempt })),
        endpoints: jobEndpoints,
        attempts: jobAttempts,
        restore,
        staleCheckpointsThrough: checkpointId,
        overrides,
        rescaled: true,
      });
    }
    await running;
    const ran = Date.now();
    job.persist();
    checkpointing.renew().start();
    const to = diff.newTasks.length;
    let moved = 0;
    for (let kg = 0; kg < after.maxParallelism; kg++) if (taskIndexForKeyGroup(kg, from, after.maxParallelism) !== taskIndexForKeyGroup(kg, to, after.maxParallelism)) moved++;
    const event = this.keep({
      kind: 'rescale',
      id,
      time: started,
      operator,
      vertex: vertexId,
      from,
      to,
      trigger,
      checkpointId,
      durationMs: ran - started,
      pausedMs: Math.max(0, ran - pausedFrom),
      keyGroupsMoved: moved,
      bytesMoved,
    });
    job.logger.info({ jobId: job.id, ...event }, `rescaled "${operator}" from ${from} to ${to}`);
    return event;
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
