import { DEFAULT_SLOT_SHARING_GROUP, InsufficientSlotsError } from '@mobius/interface';
import type { ExecutionPlan, Scheduler, TaskPlacement, WorkerInfo } from '@mobius/interface';
import { SchedulerError } from './errors.js';
import { requiredSlots, slotSharingGroups, type SharedSlot } from './slot-sharing.js';

interface WorkerState {
  info: WorkerInfo;
  /** Slots held by jobs on this worker. */
  used: number;
}

interface TaskState {
  readonly vertexId: string;
  readonly group: string;
  /** Undefined while the task's worker is gone and `replace` has not been called yet. */
  slot: SharedSlot | undefined;
}

interface JobState {
  /** Tasks in plan order, so `placements` is deterministic. */
  readonly tasks: Map<string, TaskState>;
  readonly slots: Set<SharedSlot>;
}

/**
 * Slot-based scheduler with slot sharing, as Flink's: each worker offers a fixed number of
 * slots; a slot holds one task of each vertex of a slot-sharing group, so a job takes, per
 * group, as many slots as the group's largest parallelism.
 *
 * A job is admitted when the free slots cover `requiredSlots(plan)`; spare free slots then
 * spread its tasks up to one slot per task. The slots of a group are spread across workers
 * (the Flink `cluster.evenly-spread-out-slots` behaviour), so losing one worker costs a vertex
 * as few of its instances as possible and a hot operator's load is shared.
 */
export class SlotScheduler implements Scheduler {
  // Map iteration order is insertion order, and re-setting an existing key keeps its position,
  // so this map alone gives the "registration order" tie-break, stable across re-registration.
  private readonly workerStates = new Map<string, WorkerState>();
  private readonly jobs = new Map<string, JobState>();

  registerWorker(worker: WorkerInfo): void {
    if (typeof worker.id !== 'string' || worker.id.length === 0) {
      throw new SchedulerError('INVALID_WORKER', 'worker id must be a non-empty string');
    }
    if (!Number.isInteger(worker.slots) || worker.slots < 1) {
      throw new SchedulerError(
        'INVALID_WORKER',
        `worker "${worker.id}" must offer a positive integer number of slots, got ${String(worker.slots)}`,
      );
    }
    const existing = this.workerStates.get(worker.id);
    // A worker that comes back with fewer slots keeps its running tasks (we never evict on
    // re-registration); it simply has no free slot until enough of them are released.
    this.workerStates.set(worker.id, { info: { ...worker }, used: existing?.used ?? 0 });
  }

  removeWorker(workerId: string): ReadonlyMap<string, readonly string[]> {
    const lost = new Map<string, string[]>();
    // Removing an unknown worker is a no-op so that a failure detector and an orderly shutdown
    // can both report the same worker without coordinating.
    if (!this.workerStates.delete(workerId)) return lost;
    for (const [jobId, job] of this.jobs) {
      for (const slot of job.slots) if (slot.workerId === workerId) job.slots.delete(slot);
      for (const [taskId, task] of job.tasks) {
        if (task.slot?.workerId !== workerId) continue;
        task.slot = undefined;
        const list = lost.get(jobId);
        if (list) list.push(taskId);
        else lost.set(jobId, [taskId]);
      }
    }
    return lost;
  }

  workers(): readonly WorkerInfo[] {
    return [...this.workerStates.values()].map((w) => ({ ...w.info }));
  }

  freeSlots(): number {
    let free = 0;
    for (const w of this.workerStates.values()) free += freeOf(w);
    // The local scheduler offers MAX_SAFE_INTEGER slots; keep the sum an exact integer.
    return Math.min(free, Number.MAX_SAFE_INTEGER);
  }

  heldSlots(jobId: string): number {
    return this.jobs.get(jobId)?.slots.size ?? 0;
  }

  /** Slots of every registered worker, free or held. */
  totalSlots(): number {
    let total = 0;
    for (const w of this.workerStates.values()) total += w.info.slots;
    return Math.min(total, Number.MAX_SAFE_INTEGER);
  }

  requiredSlots(plan: ExecutionPlan): number {
    return requiredSlots(plan);
  }

  place(jobId: string, plan: ExecutionPlan): readonly TaskPlacement[] {
    if (this.jobs.has(jobId)) {
      throw new SchedulerError('JOB_ALREADY_PLACED', `job "${jobId}" is already placed; release it first`);
    }
    const groups = slotSharingGroups(plan);
    let required = 0;
    for (const group of groups) required += group.slots;
    const available = this.freeSlots();
    // Checked up front so a job is placed entirely or not at all.
    if (available < required) throw new InsufficientSlotsError(required, available, this.totalSlots());

    const job: JobState = { tasks: new Map(), slots: new Set() };
    for (const task of plan.tasks) job.tasks.set(task.id, { vertexId: task.vertexId, group: DEFAULT_SLOT_SHARING_GROUP, slot: undefined });
    // Spare free slots spread a group's tasks further (up to one slot per task, the placement
    // without sharing): connected tasks then rarely share a worker, so one lost worker costs as
    // few tasks as possible. Sharing only packs tasks as tightly as the free slots require.
    let spare = available - required;
    for (const group of groups) {
      let tasksInGroup = 0;
      for (const tasks of group.vertices.values()) tasksInGroup += tasks.length;
      const extra = Math.min(spare, tasksInGroup - group.slots);
      spare -= extra;
      const perWorker = new Map<string, number>();
      const slots: SharedSlot[] = [];
      for (let i = 0; i < group.slots + extra; i++) {
        const worker = this.pick(perWorker, new Set());
        // Cannot happen after the capacity check above; guarded so a bug surfaces loudly.
        if (!worker) throw new InsufficientSlotsError(required, this.freeSlots(), this.totalSlots());
        perWorker.set(worker.info.id, (perWorker.get(worker.info.id) ?? 0) + 1);
        slots.push(this.openSlot(job, group.name, worker));
      }
      // Each vertex starts where the previous one ended, wrapping: a vertex's tasks land in
      // distinct slots (its parallelism is at most the slot count), consecutive slots on
      // different workers.
      let offset = 0;
      for (const [vertexId, tasks] of group.vertices) {
        const start = offset;
        offset += tasks.length;
        tasks.forEach((task, i) => {
          const slot = slots[(start + i) % slots.length];
          slot.tasks.set(vertexId, task.id);
          job.tasks.set(task.id, { vertexId, group: group.name, slot });
        });
      }
    }
    this.jobs.set(jobId, job);
    return this.placements(jobId);
  }

  /**
   * Takes over a placement made elsewhere (a restarted coordinator learning where a running
   * job's tasks are from its re-registering workers). Tasks of a group on one worker are packed
   * into as few shared slots as slot sharing allows. A task on an unknown worker, or none,
   * stays unplaced until `replace` gives it one.
   */
  adopt(jobId: string, plan: ExecutionPlan, placements: readonly { readonly taskId: string; readonly workerId: string | undefined }[]): void {
    if (this.jobs.has(jobId)) this.release(jobId);
    const where = new Map(placements.map((p) => [p.taskId, p.workerId]));
    const job: JobState = { tasks: new Map(), slots: new Set() };
    for (const task of plan.tasks) job.tasks.set(task.id, { vertexId: task.vertexId, group: DEFAULT_SLOT_SHARING_GROUP, slot: undefined });
    for (const group of slotSharingGroups(plan)) {
      for (const [vertexId, tasks] of group.vertices) {
        for (const task of tasks) {
          const workerId = where.get(task.id);
          const worker = workerId === undefined ? undefined : this.workerStates.get(workerId);
          const state: TaskState = { vertexId, group: group.name, slot: undefined };
          job.tasks.set(task.id, state);
          if (!worker) continue;
          const slot = this.roomIn(job, state, (s) => s.workerId === worker.info.id) ?? this.openSlot(job, group.name, worker);
          slot.tasks.set(vertexId, task.id);
          state.slot = slot;
        }
      }
    }
    this.jobs.set(jobId, job);
  }

  replace(jobId: string, taskId: string, exclude: readonly string[] = []): TaskPlacement {
    const job = this.jobState(jobId);
    const task = job.tasks.get(taskId);
    if (!task) throw new SchedulerError('UNKNOWN_TASK', `task "${taskId}" is not part of job "${jobId}"`);

    const excluded = new Set(exclude);
    const allowed = (s: SharedSlot): boolean => !excluded.has(s.workerId);
    // A free slot spreads the job as `place` does; room in a slot the job holds (a shared slot
    // with no task of this vertex) is used when no slot is free, so a recovery never waits for
    // slots it can do without. Excluded workers are only a preference: a suspect worker beats
    // not running the task at all. The task's own slot counts as room.
    let slot = this.newSlot(job, task, excluded) ?? this.roomIn(job, task, allowed);
    slot ??= this.roomIn(job, task, () => true) ?? this.newSlot(job, task, new Set());
    if (!slot) throw new InsufficientSlotsError(1, 0, this.totalSlots());
    if (slot !== task.slot) {
      this.leaveSlot(job, taskId, task);
      slot.tasks.set(task.vertexId, taskId);
      task.slot = slot;
    }
    return { taskId, workerId: slot.workerId };
  }

  release(jobId: string): void {
    const job = this.jobState(jobId);
    for (const slot of job.slots) {
      const worker = this.workerStates.get(slot.workerId);
      if (worker) worker.used -= 1;
    }
    this.jobs.delete(jobId);
  }

  placements(jobId: string): readonly TaskPlacement[] {
    const result: TaskPlacement[] = [];
    for (const [taskId, task] of this.jobState(jobId).tasks) {
      if (task.slot !== undefined) result.push({ taskId, workerId: task.slot.workerId });
    }
    return result;
  }

  private jobState(jobId: string): JobState {
    const job = this.jobs.get(jobId);
    if (!job) throw new SchedulerError('UNKNOWN_JOB', `job "${jobId}" is not placed on this scheduler`);
    return job;
  }

  private openSlot(job: JobState, group: string, worker: WorkerState): SharedSlot {
    worker.used += 1;
    const slot: SharedSlot = { group, workerId: worker.info.id, tasks: new Map() };
    job.slots.add(slot);
    return slot;
  }

  private leaveSlot(job: JobState, taskId: string, task: TaskState): void {
    const slot = task.slot;
    task.slot = undefined;
    if (!slot || slot.tasks.get(task.vertexId) !== taskId) return;
    slot.tasks.delete(task.vertexId);
    if (slot.tasks.size > 0) return;
    job.slots.delete(slot);
    const worker = this.workerStates.get(slot.workerId);
    if (worker) worker.used -= 1;
  }

  /**
   * A slot of the task's job and group with no task of its vertex (or the task's own slot), on
   * the worker holding the fewest tasks of that vertex, then the earliest registered.
   */
  private roomIn(job: JobState, task: TaskState, accept: (slot: SharedSlot) => boolean): SharedSlot | undefined {
    const perWorker = this.vertexCounts(job, task);
    let best: SharedSlot | undefined;
    let bestCount = 0;
    for (const slot of job.slots) {
      if (slot.group !== task.group || !accept(slot)) continue;
      if (slot !== task.slot && slot.tasks.has(task.vertexId)) continue;
      const count = perWorker.get(slot.workerId) ?? 0;
      if (!best || count < bestCount) {
        best = slot;
        bestCount = count;
      }
    }
    return best;
  }

  private newSlot(job: JobState, task: TaskState, excluded: ReadonlySet<string>): SharedSlot | undefined {
    const worker = this.pick(this.vertexCounts(job, task), excluded);
    return worker ? this.openSlot(job, task.group, worker) : undefined;
  }

  /** worker id → tasks of this task's vertex there, the task itself left out. */
  private vertexCounts(job: JobState, task: TaskState): Map<string, number> {
    const perWorker = new Map<string, number>();
    for (const other of job.tasks.values()) {
      if (other === task || other.vertexId !== task.vertexId || other.slot === undefined) continue;
      perWorker.set(other.slot.workerId, (perWorker.get(other.slot.workerId) ?? 0) + 1);
    }
    return perWorker;
  }

  /**
   * The worker with a free slot holding the fewest of the counted tasks, then the most free
   * slots, then the earliest registered. Undefined when no non-excluded worker has a slot.
   */
  private pick(counts: ReadonlyMap<string, number>, excluded: ReadonlySet<string>): WorkerState | undefined {
    let best: WorkerState | undefined;
    let bestCount = 0;
    let bestFree = 0;
    for (const worker of this.workerStates.values()) {
      const free = freeOf(worker);
      if (free === 0 || excluded.has(worker.info.id)) continue;
      const count = counts.get(worker.info.id) ?? 0;
      // Strict comparisons keep the earlier-registered worker on a full tie.
      if (!best || count < bestCount || (count === bestCount && free > bestFree)) {
        best = worker;
        bestCount = count;
        bestFree = free;
      }
    }
    return best;
  }
}

function freeOf(worker: WorkerState): number {
  return Math.max(0, worker.info.slots - worker.used);
}
