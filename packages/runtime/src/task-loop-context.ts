import type { Barrier, Logger } from '@mobius/interface';
import type { DeterminantLog } from './failover/determinant-log.js';
import type { InputGate } from './input-gate.js';
import type { OperatorChain } from './operator-chain.js';
import type { PendingWrites } from './operators/sink-operator.js';
import type { TaskOutputs } from './output/task-outputs.js';
import type { TaskCheckpointer } from './task-checkpointer.js';
import { LoadState, TaskLoad } from './task-load.js';

/** The counters and flags of a task its loops update. */
export interface TaskCounters {
  readonly cancelled: boolean;
  /** Retired by a live rescale: the task's barrier of that checkpoint went out, it reads no more input. */
  readonly stopping: boolean;
  recordsIn: number;
}

/** What the loops of a task share. */
export interface TaskLoopInit {
  readonly task: TaskCounters;
  /** Fails the task from outside its loop (a processing-time timer fired inline threw). */
  failAsync(error: unknown): void;
  readonly chain: OperatorChain;
  readonly gate: InputGate;
  readonly outputs: TaskOutputs;
  readonly pending: PendingWrites;
  readonly checkpointer: TaskCheckpointer;
  /** `metrics.load.window.ms`. */
  readonly loadWindowMs: number;
  readonly logger: Logger;
  /** The determinant log of a task that logs the order of its inputs (more than one input channel). */
  readonly orderLog: DeterminantLog | undefined;
  readonly lingerMs: number;
  readonly batchSize: number;
  readonly maxQueuedFrames: number;
  /** After a checkpoint's snapshot, at its barrier: channel changes scheduled for it. */
  afterBarrier(barrier: Barrier): void;
  decline(checkpointId: number, reason: string): void;
}

/**
 * The run-time state of a task that its source loop and input loop share: writes in flight,
 * the linger timer that sends partial batches, processing-time timers' wake-up, and the
 * barrier path (snapshot, then the channel changes scheduled at that barrier).
 */
export class TaskLoopContext {
  /** A checkpoint a source task was asked to take at its next batch boundary. */
  pendingBarrier: Barrier | null = null;
  private lingerTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  /** A processing-time timer is due: the loop fires timers at its next turn. */
  timersDue = false;
  /**
   * True while a source's own code holds the task (a `run()` source, or a `fetch()` promise):
   * no loop turn comes until it returns, so due timers (periodic watermarks, idleness) fire from
   * their timeout instead, unless a checkpoint is being taken.
   */
  firesInline = false;
  private checkpointing = false;

  /** Where the loops say what the task does (busy, backpressured, idle), at turns and waits. */
  readonly load: TaskLoad;

  constructor(readonly init: TaskLoopInit) {
    this.load = new TaskLoad(init.loadWindowMs);
  }

  /** Waits for input: idle time. */
  async waitForInput(): Promise<void> {
    const { task, outputs } = this.init;
    const load = this.load;
    load.enter(LoadState.Idle, task.recordsIn, outputs.recordsEmitted);
    await this.init.gate.whenReadable();
    load.enter(LoadState.Busy, task.recordsIn, outputs.recordsEmitted);
  }

  /** Waits until no output channel is over its limit: backpressured time. */
  async waitForCredit(): Promise<void> {
    const { task, outputs } = this.init;
    const load = this.load;
    load.enter(LoadState.BackPressured, task.recordsIn, outputs.recordsEmitted);
    try {
      await outputs.whenRelieved();
    } finally {
      load.enter(LoadState.Busy, task.recordsIn, outputs.recordsEmitted);
    }
  }

  async settleWrites(): Promise<void> {
    const pending = this.init.pending;
    while (pending.promises.length > 0) await Promise.all(pending.take());
  }

  armLinger(): void {
    const outputs = this.init.outputs;
    if (this.lingerTimer !== undefined || outputs.channels.length === 0) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      // A cancelled task sends nothing more (its channels may already be closed).
      if (outputs.stopped) return;
      // A send failing here must fail the task (through its loop), not the process.
      try {
        outputs.flushAll();
      } catch (e) {
        outputs.fail(e);
      }
    }, this.init.lingerMs);
  }

  /** A processing-time timer is due at `time`: wake the loop then (timers fire in the loop, never beside it). */
  processingTimerAt(time: number): void {
    if (time >= this.wakeAt) return;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeAt = time;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
        this.timersDue = true;
        if (this.firesInline && !this.checkpointing) {
          try {
            this.fireDueTimers();
          } catch (e) {
            this.init.failAsync(e);
          }
          return;
        }
        this.init.gate.wake();
      },
      Math.max(0, time - Date.now()),
    );
  }

  /** Fires the processing-time timers that are due (from the loop, between batches). */
  fireDueTimers(): void {
    this.timersDue = false;
    const now = Date.now();
    // A task that logs its input order logs where its timers fired, for a replay to fire them there.
    this.init.orderLog?.timers(now);
    this.init.chain.fireProcessingTimers(now);
  }

  /** True while the task takes its part of a checkpoint. */
  get checkpointInProgress(): boolean {
    return this.checkpointing;
  }

  /**
   * The task's part of a checkpoint at `barrier`, then the channel changes scheduled at it.
   * `parked`: taken while a run() source waits on its own work (see TaskCheckpointer.checkpoint).
   */
  async barrier(barrier: Barrier, parked = false): Promise<void> {
    this.checkpointing = true;
    try {
      await this.init.checkpointer.checkpoint(barrier, parked);
    } finally {
      this.checkpointing = false;
    }
    this.init.afterBarrier(barrier);
    // A timer that came due during the checkpoint was not fired inline; no loop turn may come
    // to fire it while the source's own code holds the task.
    if (this.firesInline && this.timersDue) this.fireDueTimers();
  }

  takeBarrier(): Barrier {
    const barrier = this.pendingBarrier!;
    this.pendingBarrier = null;
    return barrier;
  }

  stopTimers(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
  }
}
