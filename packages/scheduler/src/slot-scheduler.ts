import { InsufficientSlotsError } from '@mobius/interface';
import type { ExecutionPlan, PlanTask, Scheduler, TaskPlacement, WorkerInfo } from '@mobius/interface';
import { SchedulerError } from './errors.js';

interface WorkerState {
  info: WorkerInfo;
  used: number;
}

interface TaskState {
  readonly vertexId: string;
  /** Undefined while the task's worker is gone and `replace` has not been called yet. */
  workerId: string | undefined;
}

/**
 * Slot-based scheduler: each worker offers a fixed number of slots and every task takes one.
 *
 * Each vertex's parallel tasks are spread across workers (the Flink
 * `cluster.evenly-spread-out-slots` behaviour) so that losing one worker costs a vertex as few
 * of its instances as possible and the load of a hot operator is shared.
 */
export class SlotScheduler implements Scheduler {
  // Map iteration order is insertion order, and re-setting an existing key keeps its position,
  // so this map alone gives the "registration order" tie-break, stable across re-registration.
  private readonly workerStates = new Map<string, WorkerState>();
  /** jobId → taskId → state, tasks kept in plan order so `placements` is deterministic. */
  private readonly jobs = new Map<string, Map<string, TaskState>>();

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
    for (const [jobId, tasks] of this.jobs) {
      for (const [taskId, task] of tasks) {
        if (task.workerId !== workerId) continue;
        task.workerId = undefined;
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

  place(jobId: string, plan: ExecutionPlan): readonly TaskPlacement[] {
    if (this.jobs.has(jobId)) {
      throw new SchedulerError('JOB_ALREADY_PLACED', `job "${jobId}" is already placed; release it first`);
    }
    const byVertex = groupByVertex(plan);
    const required = plan.tasks.length;
    const available = this.freeSlots();
    // Checked up front so a job is placed entirely or not at all.
    if (available < required) throw new InsufficientSlotsError(required, available);

    const tasks = new Map<string, TaskState>();
    for (const task of plan.tasks) tasks.set(task.id, { vertexId: task.vertexId, workerId: undefined });

    for (const vertexTasks of byVertex.values()) {
      const perWorker = new Map<string, number>();
      for (const task of vertexTasks) {
        const worker = this.pick(perWorker, new Set());
        // Cannot happen after the capacity check above; guarded so a bug surfaces loudly.
        if (!worker) throw new InsufficientSlotsError(required, this.freeSlots());
        worker.used += 1;
        perWorker.set(worker.info.id, (perWorker.get(worker.info.id) ?? 0) + 1);
        const state = tasks.get(task.id);
        if (state) state.workerId = worker.info.id;
      }
    }
    this.jobs.set(jobId, tasks);
    return this.placements(jobId);
  }

  /**
   * Takes over a placement made elsewhere (a restarted coordinator learning where a running
   * job's tasks are from its re-registering workers). A task on an unknown worker, or none,
   * stays unplaced until `replace` gives it one.
   */
  adopt(jobId: string, plan: ExecutionPlan, placements: readonly { readonly taskId: string; readonly workerId: string | undefined }[]): void {
    if (this.jobs.has(jobId)) this.release(jobId);
    const where = new Map(placements.map((p) => [p.taskId, p.workerId]));
    const tasks = new Map<string, TaskState>();
    for (const task of plan.tasks) {
      const workerId = where.get(task.id);
      const worker = workerId === undefined ? undefined : this.workerStates.get(workerId);
      if (worker) worker.used += 1;
      tasks.set(task.id, { vertexId: task.vertexId, workerId: worker ? workerId : undefined });
    }
    this.jobs.set(jobId, tasks);
  }

  replace(jobId: string, taskId: string, exclude: readonly string[] = []): TaskPlacement {
    const tasks = this.jobTasks(jobId);
    const task = tasks.get(taskId);
    if (!task) throw new SchedulerError('UNKNOWN_TASK', `task "${taskId}" is not part of job "${jobId}"`);

    const previous = task.workerId !== undefined ? this.workerStates.get(task.workerId) : undefined;
    if (previous) previous.used -= 1;
    task.workerId = undefined;

    // Spread against the other instances of the same vertex, as `place` does.
    const perWorker = new Map<string, number>();
    for (const other of tasks.values()) {
      if (other.vertexId !== task.vertexId || other.workerId === undefined) continue;
      perWorker.set(other.workerId, (perWorker.get(other.workerId) ?? 0) + 1);
    }
    const excluded = new Set(exclude);
    // Excluded workers are only a preference: a suspect worker beats not running the task at all.
    const worker = this.pick(perWorker, excluded) ?? this.pick(perWorker, new Set());
    if (!worker) {
      // Leave the scheduler as it was: the task keeps its old slot if it had one.
      if (previous) {
        previous.used += 1;
        task.workerId = previous.info.id;
      }
      throw new InsufficientSlotsError(1, 0);
    }
    worker.used += 1;
    task.workerId = worker.info.id;
    return { taskId, workerId: worker.info.id };
  }

  release(jobId: string): void {
    const tasks = this.jobTasks(jobId);
    for (const task of tasks.values()) {
      if (task.workerId === undefined) continue;
      const worker = this.workerStates.get(task.workerId);
      if (worker) worker.used -= 1;
    }
    this.jobs.delete(jobId);
  }

  placements(jobId: string): readonly TaskPlacement[] {
    const result: TaskPlacement[] = [];
    for (const [taskId, task] of this.jobTasks(jobId)) {
      if (task.workerId !== undefined) result.push({ taskId, workerId: task.workerId });
    }
    return result;
  }

  private jobTasks(jobId: string): Map<string, TaskState> {
    const tasks = this.jobs.get(jobId);
    if (!tasks) throw new SchedulerError('UNKNOWN_JOB', `job "${jobId}" is not placed on this scheduler`);
    return tasks;
  }

  /**
   * The worker with a free slot holding the fewest tasks of the current vertex, then the most
   * free slots, then the earliest registered. Undefined when no non-excluded worker has a slot.
   */
  private pick(perVertex: ReadonlyMap<string, number>, excluded: ReadonlySet<string>): WorkerState | undefined {
    let best: WorkerState | undefined;
    let bestCount = 0;
    let bestFree = 0;
    for (const worker of this.workerStates.values()) {
      const free = freeOf(worker);
      if (free === 0 || excluded.has(worker.info.id)) continue;
      const count = perVertex.get(worker.info.id) ?? 0;
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

/**
 * Tasks grouped by vertex in `plan.vertices` order, each group sorted by task index. Tasks of a
 * vertex missing from `plan.vertices` are still placed (after the known ones) because the
 * contract is one placement per task; duplicate task ids are rejected since they would share a slot.
 */
function groupByVertex(plan: ExecutionPlan): Map<string, PlanTask[]> {
  const groups = new Map<string, PlanTask[]>();
  for (const vertex of plan.vertices) groups.set(vertex.id, []);
  const seen = new Set<string>();
  for (const task of plan.tasks) {
    if (seen.has(task.id)) {
      throw new SchedulerError('INVALID_PLAN', `plan "${plan.jobName}" lists task "${task.id}" more than once`);
    }
    seen.add(task.id);
    const group = groups.get(task.vertexId);
    if (group) group.push(task);
    else groups.set(task.vertexId, [task]);
  }
  for (const group of groups.values()) group.sort((a, b) => a.index - b.index);
  return groups;
}
