/**
 * A task retired by a live rescale at the barrier of one checkpoint (see `Task.stopAt`): it stops
 * reading once that barrier went out, and may end once that checkpoint completed (its sinks
 * committed it) or was aborted, or the task was cancelled.
 */
export class TaskRetirement {
  /** The barrier went out: the task reads no more input. */
  stopping = false;
  /** Resolves when the task may end. */
  readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(readonly checkpointId: number) {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
  }

  /** The task's barrier of `checkpointId` went out (after its snapshot). */
  barrierPassed(checkpointId: number): void {
    if (checkpointId >= this.checkpointId) this.stopping = true;
  }

  /** Checkpoint `checkpointId` completed or was aborted. */
  checkpointEnded(checkpointId: number): void {
    if (checkpointId >= this.checkpointId) this.settle();
  }

  /** The task is cancelled: nothing to wait for. */
  cancelled(): void {
    this.settle();
  }
}
