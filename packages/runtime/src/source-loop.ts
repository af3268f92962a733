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
 * (the task, its source context's host, hands it on). Load: a fetch is busy time, the turn after
 * a synchronous fetch that found nothing idle time, an awaited async fetch idle until it collects
 * a record and busy from then on, a wait for credit backpressured, a yield to the event
 * loop after records waiting for the thread; a `run()` source is busy except while it waits for
 * credit or yields (the task cannot see its own timers or I/O).
 */
export class SourceLoop {
  /** Records a run() source collected since it last yielded to the event loop. */
  private runCollects = 0;
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
    try {
      await source.init?.(this.parallelism, this.index);
      const offset = this.restoredOffset();
      if (offset !== undefined) await source.restoreState?.(offset);
      if (typeof source.run === 'function') {
        sourceContext.runMode = true;
        ctx.firesInline = true;
        try {
          await source.run(sourceContext);
        } finally {
          ctx.firesInline = false;
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
    await ctx.settleWrites();
    if (ctx.timersDue) ctx.fireDueTimers();
    if (ctx.pendingBarrier !== null) await ctx.barrier(ctx.takeBarrier());
    if (ctx.init.outputs.blocked > 0) await ctx.waitForCredit();
    const { task, outputs } = ctx.init;
    ctx.load.enter(LoadState.Ready, task.recordsIn, outputs.recordsEmitted);
    await yieldToEventLoop();
    ctx.load.enter(LoadState.Busy, task.recordsIn, outputs.recordsEmitted);
    if (ctx.init.task.cancelled) throw new TaskCancelledSignal();
  }
}
