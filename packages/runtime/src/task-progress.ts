/**
 * A task's progress, in memory another thread can read while user code holds this one: a
 * cluster worker's heartbeat thread reads it to tell a busy task from a stalled one. Each task
 * owns two Int32 cells of a shared array: records processed so far (wrapping at 2^31) and
 * whether the task holds the thread with input in hand (1) or waits (0). Only one task of a
 * thread can hold it at a time, so a busy cell whose count does not move names the task that
 * keeps the thread.
 */
export class TaskProgress {
  /** Int32 cells per task. */
  static readonly CELLS = 2;

  private constructor(
    private readonly cells: Int32Array,
    private readonly at: number,
  ) {}

  /** The progress cells of task `slot` in a shared array of `slots × CELLS` Int32s. */
  static inShared(cells: Int32Array, slot: number): TaskProgress {
    if (!Number.isInteger(slot) || slot < 0 || (slot + 1) * TaskProgress.CELLS > cells.length) {
      throw new RangeError(`progress slot ${slot} is outside a shared array of ${cells.length / TaskProgress.CELLS} slots`);
    }
    const progress = new TaskProgress(cells, slot * TaskProgress.CELLS);
    progress.waiting(0);
    return progress;
  }

  /** Cells nobody reads: the loops write to them all the same, so their calls keep one shape. */
  static detached(): TaskProgress {
    return new TaskProgress(new Int32Array(TaskProgress.CELLS), 0);
  }

  /** The task takes the thread with input in hand. */
  working(records: number): void {
    Atomics.store(this.cells, this.at, records | 0);
    Atomics.store(this.cells, this.at + 1, 1);
  }

  /** Records processed so far, while the task keeps working. */
  advanced(records: number): void {
    Atomics.store(this.cells, this.at, records | 0);
  }

  /** The task lets the thread go (it waits for input, credit, a write or the next turn). */
  waiting(records: number): void {
    Atomics.store(this.cells, this.at, records | 0);
    Atomics.store(this.cells, this.at + 1, 0);
  }

  /** What another thread reads. */
  static read(cells: Int32Array, slot: number): { readonly records: number; readonly busy: boolean } {
    const at = slot * TaskProgress.CELLS;
    return { records: Atomics.load(cells, at), busy: Atomics.load(cells, at + 1) === 1 };
  }
}

const attached = new WeakMap<object, TaskProgress>();

/** Gives a task shared progress cells (before it runs); a task without any writes to detached ones. */
export function attachTaskProgress(task: object, progress: TaskProgress): void {
  attached.set(task, progress);
}

/** The progress cells of a task's loop. */
export function progressOf(task: object): TaskProgress {
  return attached.get(task) ?? TaskProgress.detached();
}
