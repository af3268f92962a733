import type { ExecutionPlan } from './plan.js';

/** A worker process (or the embedded process) offering slots. */
export interface WorkerInfo {
  readonly id: string;
  /** Data endpoint of the worker's transport. */
  readonly endpoint: string;
  readonly slots: number;
  readonly pid?: number;
  /** Data endpoints of the worker's task threads, when its tasks run on threads (see the `register` message). */
  readonly slotEndpoints?: readonly string[];
}

/** Where one task runs. */
export interface TaskPlacement {
  readonly taskId: string;
  readonly workerId: string;
}

/** Places plan tasks on workers' slots. */
export interface Scheduler {
  registerWorker(worker: WorkerInfo): void;
  /** Removes a worker; returns the placements it held (job id → task ids). */
  removeWorker(workerId: string): ReadonlyMap<string, readonly string[]>;
  workers(): readonly WorkerInfo[];
  freeSlots(): number;
  /** Slots the job holds now (it may hold more than it requires: spare slots spread its tasks). */
  heldSlots?(jobId: string): number;
  /**
   * Slots a plan takes when placed: per slot-sharing group, the largest parallelism of its
   * vertices, summed over the groups.
   */
  requiredSlots(plan: ExecutionPlan): number;
  /** Reserves `requiredSlots(plan)` slots, one task of each vertex of a group per slot, spreading each vertex's tasks across workers. */
  place(jobId: string, plan: ExecutionPlan): readonly TaskPlacement[];
  /** Places one task again (after a failure), avoiding the excluded workers when possible. */
  replace(jobId: string, taskId: string, exclude?: readonly string[]): TaskPlacement;
  /**
   * Takes over a job's placements as they are (a restarted coordinator's job, whose tasks kept
   * running): tasks with no worker (undefined) hold no slot until `replace`d.
   */
  adopt(jobId: string, plan: ExecutionPlan, placements: readonly { readonly taskId: string; readonly workerId: string | undefined }[]): void;
  /** Frees every slot a job holds. */
  release(jobId: string): void;
  placements(jobId: string): readonly TaskPlacement[];
}
