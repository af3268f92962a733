import { BackpressureError } from '@mobius/interface';
import { operatorFailure } from './operators/operator.js';
import type { SourceHead } from './operators/operator-registry.js';
import { yieldToEventLoop } from './signal.js';
import type { TaskLoopContext } from './task-loop-context.js';
import { LoadState } from './task-load.js';
import { progressOf } from './task-progress.js';
import { TaskCancelledSignal, type TaskSourceContext } from './task-source-context.js';

/**
 * The loop of a source task: calls the source's `fetch` again and again (or its `run` once),
 * takes checkpoints at batch boundaries, and waits between batches for credit, for an async
 * sink's writes and for the event loop. A `run()` source is paced through {@link afterRunCollect}
 * (the task, its source context's host, hands it on), and takes a checkpoint there, at its next
 * collect, or from the event loop while it waits on its own work ({@link barrierPending}).
 * Load: a fetch is busy time, the turn after a synchronous fetch that found nothing idle time,
 * an awaited async fetch idle until it collects a record and busy from then on, a wait for
 * credit backpressured, a yield to the event loop after records waiting for the thread; a
 * `run()` source is busy except while it waits for credit or yields (the task cannot see its
 * own timers or I/O).
 */
export class SourceLoop {
  /** Records a run() source collected since it last yielded to the event loop. */
  private runCollects = 0;
  /** relieve() calls under way: the run() source awaits one, which takes a pending barrier itself. */
  private relieving = 0;
  /** A look for a run() source waiting on its own work is scheduled. */
  private parkedLook = false;
  /** A checkpoint taken while the run() source waited, until it and what was held meanwhile are through. */
  private parked: Promise<void> | null = null;
  private sourceContext: TaskSourceContext | undefined;
  /** The first record an awaited fetch collects ends its idle time. */
  private readonly fetchCollects = (): void => {
    const { task, outputs } = this.ctx.init;
    this.ctx.load.enter(LoadState.Busy, task.recordsIn, outputs.recordsEmitted);
  };

  constructor(
    private readonly ctx: TaskLoopContext,
    private readonly head: SourceHead,
    private readonly restoredOffset: () => unknown,
    private readonly parallelism: number,
    private readonly index: number,
  ) {}

  async run(sourceContext: TaskSourceContext): Promise<void> {
    const ctx = this.ctx;
    const { outputs, pending, task } = ctx.init;
    const load = ctx.load;
    const source = this.head.source;
    this.sourceContext = sourceContext;
    try {
      await source.init?.(this.parallelism, this.index);
      const offset = this.restoredOffset();
      if (offset !== undefined) await source.restoreState?.(offset);
      if (typeof source.run === 'function') {
        sourceContext.runMode = true;
        ctx.firesInline = true;
        try {
          // What came due, or was triggered, while the source was set up has no loop turn to wait for.
          if (ctx.timersDue) ctx.fireDueTimers();
          if (ctx.pendingBarrier !== null) this.barrierPending();
          await source.run(sourceContext);
        } finally {
          ctx.firesInline = false;
          // A checkpoint taken while it waited ends (and lets through what it held) before the end of input.
          if (this.parked !== null) await this.parked;
        }
        return;
      }
      // A fetch holds the thread with its batch in hand (the chained functions run inside it);
      // the heartbeat thread reads how far it got. A run() source is not followed this way:
      // the task cannot see when it waits on its own timers or I/O.
      const progress = progressOf(task);
      while (!sourceContext.ended && !task.cancelled) {
        const before = task.recordsIn;
        progress.working(before);
        load.enter(LoadState.Busy, before, outputs.recordsEmitted);
        const r = source.fetch!(sourceContext);
        progress.waiting(task.recordsIn);
        if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
          // Awaiting the fetch is idle time (a paced source sleeping, a client waiting for I/O)
          // until it collects a record: from then on it works (the chained functions run in it).
          load.enter(LoadState.Idle, task.recordsIn, outputs.recordsEmitted);
          sourceContext.awaitingFetch = this.fetchCollects;
          ctx.armLinger();
          ctx.firesInline = true;
          try {
            await r;
          } finally {
            ctx.firesInline = false;
            sourceContext.awaitingFetch = null;
          }
        } else {
          // A synchronous fetch that found nothing: the source is idle, so send partial batches
          // now rather than hold them until the batch fills.
          if (task.recordsIn === before) {
            outputs.flushAll();
            load.enter(LoadState.Idle, before, outputs.recordsEmitted);
          } else {
            load.enter(LoadState.Ready, task.recordsIn, outputs.recordsEmitted);
          }
          // Let timers and I/O (and a cancel) in between batches of a synchronous source.
          await yieldToEventLoop();
        }
        if (ctx.timersDue) ctx.fireDueTimers();
        if (pending.promises.length > 0) await ctx.settleWrites();
        if (ctx.pendingBarrier !== null) await ctx.barrier(ctx.takeBarrier());
        if (outputs.blocked > 0) await ctx.waitForCredit();
      }
    } catch (error) {
      // A cancelled source unwinds through collect(): that is the cancel, not a failure.
      if (error instanceof TaskCancelledSignal) throw error;
      throw operatorFailure(this.head.identity, error);
    }
  }

  afterRunCollect(): Promise<void> | undefined {
    const ctx = this.ctx;
    const { outputs, pending, batchSize, maxQueuedFrames } = ctx.init;
    ctx.armLinger();
    // Wait for credit or for the sink's writes; and every batch, yield to the event loop even
    // when nothing blocks (a run() source awaiting only collect() would otherwise starve it).
    if (outputs.blocked > 0 || pending.promises.length >= batchSize || ++this.runCollects >= batchSize || ctx.pendingBarrier !== null) {
      if (outputs.overflowing(maxQueuedFrames)) {
        throw new BackpressureError(
          `source "${this.head.identity.operatorName}" task #${this.index} collected ${outputs.queuedFrames} frames beyond its channels' credit: a run() source must await the promise collect() returns`,
        );
      }
      const relief = this.relieve();
      // A source that does not await it must not turn a cancel into an unhandled rejection.
      relief.catch(() => undefined);
      return relief;
    }
    return undefined;
  }

  private async relieve(): Promise<void> {
    const ctx = this.ctx;
    this.runCollects = 0;
    this.relieving++;
    try {
      await ctx.settleWrites();
      if (ctx.timersDue) ctx.fireDueTimers();
      if (ctx.pendingBarrier !== null) await ctx.barrier(ctx.takeBarrier());
      if (ctx.init.outputs.blocked > 0) await ctx.waitForCredit();
      const { task, outputs } = ctx.init;
      ctx.load.enter(LoadState.Ready, task.recordsIn, outputs.recordsEmitted);
      await yieldToEventLoop();
      ctx.load.enter(LoadState.Busy, task.recordsIn, outputs.recordsEmitted);
    } finally {
      this.relieving--;
      // A barrier that came after this one's turn: the source may now wait on its own work.
      if (ctx.pendingBarrier !== null) this.barrierPending();
    }
    if (ctx.init.task.cancelled) throw new TaskCancelledSignal();
  }

  /**
   * A checkpoint was triggered. A `run()` source takes it at its next collect, but one that waits
   * on its own work (a timer, I/O, an external event) may not collect for a long time: once the
   * event loop turns, if the source is still waiting there (not in a collect's relief, which
   * takes the barrier itself), the barrier is taken from here.
   */
  barrierPending(): void {
    if (this.sourceContext?.runMode !== true || this.parkedLook) return;
    this.parkedLook = true;
    setImmediate(this.lookForParkedSource);
  }

  private readonly lookForParkedSource = (): void => {
    this.parkedLook = false;
    const ctx = this.ctx;
    // No JavaScript of the source runs while this does (no collect is half done): it is parked at
    // an await, on its own work unless it awaits a relief.
    if (ctx.pendingBarrier === null || !ctx.firesInline || this.relieving > 0 || this.parked !== null || ctx.checkpointInProgress || ctx.init.task.cancelled) return;
    this.parked = this.checkpointWhileParked();
  };

  /**
   * Takes the pending barrier (and any triggered meanwhile) while the run() source waits. From the
   * start, what the source emits is held (its offset is read then), and let through after the
   * checkpoint: the checkpoint lock of a collect's relief, without the source's cooperation.
   */
  private async checkpointWhileParked(): Promise<void> {
    const ctx = this.ctx;
    const sourceContext = this.sourceContext!;
    sourceContext.hold(ctx.init.batchSize);
    try {
      while (ctx.pendingBarrier !== null && !ctx.init.task.cancelled) await ctx.barrier(ctx.takeBarrier(), true);
    } catch (e) {
      ctx.init.failAsync(e);
    }
    // After a failure the task is cancelled: the held records' promises reject, unwinding the source.
    const failure = await sourceContext.release();
    if (failure !== undefined && !(failure.error instanceof TaskCancelledSignal)) ctx.init.failAsync(failure.error);
    this.parked = null;
    if (ctx.pendingBarrier !== null) this.barrierPending();
  }
}
