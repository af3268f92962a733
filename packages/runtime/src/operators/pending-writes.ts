import type { TaskFailedError } from '@mobius/interface';

/** An operator with async calls in flight (see AsyncCalls): the task drains it at barriers and at the end. */
export interface DrainableCalls {
  /** True while calls are in flight or results wait for their turn. */
  readonly busy: boolean;
  /** Resolves once every call completed and its result left; rejects with the operator's failure. */
  drain(): Promise<void>;
  /** The task ends: calls still in flight are dropped, and whoever waits on them is released. */
  close(reason?: unknown): void;
}

const noop = (): void => {};

/**
 * What the operators of one task leave for the task's loop to await: promises it settles
 * between input batches (async sinks' writes, or an async operator at its capacity) and the
 * operators with async calls in flight, drained before a barrier goes out and at the end of
 * input. The task sets the two hooks; an operator used alone (a unit test) keeps the no-ops.
 */
export class PendingWrites {
  promises: Promise<void>[] = [];
  readonly calls: DrainableCalls[] = [];
  /** An async result left the operator outside the task's loop: the task sends it after its linger. */
  onOutput: () => void = noop;
  /** An async call failed outside the task's loop: the task fails now, not at its next record. */
  onFailure: (failure: TaskFailedError) => void = noop;

  take(): Promise<void>[] {
    const p = this.promises;
    this.promises = [];
    return p;
  }

  /** True while any promise is pending or any operator has calls in flight. */
  get busy(): boolean {
    if (this.promises.length > 0) return true;
    for (const c of this.calls) if (c.busy) return true;
    return false;
  }

  /** The task stops (cancel or failure): no call in flight may hold its loop. */
  abort(): void {
    for (const c of this.calls) c.close();
  }

  /**
   * Awaits every pending promise and drains every operator's async calls, until none is left:
   * draining one operator emits into the next, which may start calls of its own.
   */
  async settleAll(): Promise<void> {
    for (;;) {
      if (this.promises.length > 0) {
        await Promise.all(this.take());
        continue;
      }
      const busy = this.calls.find((c) => c.busy);
      if (busy === undefined) return;
      await busy.drain();
    }
  }
}
