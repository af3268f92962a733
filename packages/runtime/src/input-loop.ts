import type { DeterminantLog } from './failover/determinant-log.js';
import type { StreamOperator } from './operators/stream-operator.js';
import { yieldToEventLoop } from './signal.js';
import type { TaskLoopContext } from './task-loop-context.js';
import { LoadState } from './task-load.js';
import { progressOf, type TaskProgress } from './task-progress.js';
import { WorkSlice } from './work-slice.js';

/**
 * The loop of a task with input channels (Flink's StreamTask input processing): takes a frame
 * from the gate, pushes its records through the chain with direct calls, and waits only between
 * frames (for input, for credit, or for an async sink's batch). Aligned barriers snapshot the
 * task; a rise of the input watermark goes through the chain. After a few milliseconds of work
 * the loop yields to the event loop, also inside a frame, so a slow function cannot keep timers,
 * control messages and the worker's other tasks waiting; the task's progress cells say whether
 * it holds the thread and how far it got (a worker's heartbeat thread reads them). The load meter
 * hears of each wait: for input (idle), for output credit (backpressured) and for the thread
 * (a yield); everything else, barriers and the task's own async writes included, is busy time.
 */
export async function runInputs(ctx: TaskLoopContext): Promise<void> {
  const { gate, outputs, pending, task, orderLog: log } = ctx.init;
  const head = ctx.init.chain.head;
  const progress = progressOf(task);
  const slice = new WorkSlice();
  if (log?.replaying === true && !(await replayLoggedOrder(ctx, log, progress, slice))) return;
  for (;;) {
    if (task.cancelled || task.stopping) return;
    progress.working(task.recordsIn);
    if (ctx.timersDue) ctx.fireDueTimers();
    const frame = gate.poll();
    if (frame === undefined) {
      progress.waiting(task.recordsIn);
      if (gate.finished) return;
      // Nothing to read: send partial batches now rather than hold them.
      outputs.flushAll();
      await ctx.waitForInput();
      slice.restart();
      continue;
    }
    if (frame.kind === 'barrier') {
      progress.waiting(task.recordsIn);
      await ctx.barrier(frame.barrier!);
      continue;
    }
    if (frame.kind === 'watermark') {
      // Logged like an input choice: a replay raises the watermark at the same place.
      if (log !== undefined) log.watermark(frame.watermark!);
      ctx.init.chain.processWatermark(frame.watermark!);
    } else if (frame.kind === 'data') {
      const records = frame.records!;
      // The choice of input is logged before the output that depends on it is produced.
      if (log !== undefined) log.order(gate.lastIndex, records.length);
      task.recordsIn += records.length;
      const stamps = frame.timestamps;
      const stopped = collectSlice(head, records, stamps, 0, slice);
      if (stopped < records.length && !(await finishFrame(ctx, head, records, stamps, stopped, progress, slice))) return;
      progress.advanced(task.recordsIn);
    }
    if (slice.spent()) await yieldSlice(ctx, progress, slice, task.recordsIn);
    if (pending.promises.length > 0) {
      progress.waiting(task.recordsIn);
      await ctx.settleWrites();
    }
    if (outputs.blocked > 0) {
      progress.waiting(task.recordsIn);
      await ctx.waitForCredit();
    }
  }
}

/**
 * Pushes the rest of a frame (from `from`) through the chain, yielding whenever the slice is
 * spent. `false` when the task was cancelled meanwhile. The records were counted in
 * `recordsIn` already.
 */
async function finishFrame(
  ctx: TaskLoopContext,
  head: StreamOperator,
  records: readonly unknown[],
  stamps: readonly number[] | null,
  from: number,
  progress: TaskProgress,
  slice: WorkSlice,
): Promise<boolean> {
  const task = ctx.init.task;
  const n = records.length;
  let i = from;
  while (i < n) {
    await yieldSlice(ctx, progress, slice, task.recordsIn - n + i);
    if (task.cancelled) return false;
    i = collectSlice(head, records, stamps, i, slice);
  }
  return true;
}

/**
 * Pushes `records[from..]` through the chain until the end or the slice is spent; where it
 * stopped. Each record's timestamp (NaN without) is set before it goes in: an operator may have
 * changed the task's element time while emitting the record before.
 */
function collectSlice(head: StreamOperator, records: readonly unknown[], stamps: readonly number[] | null, from: number, slice: WorkSlice): number {
  const n = records.length;
  const time = head.time;
  let i = from;
  while (i < n) {
    const stop = Math.min(n, i + WorkSlice.CHECK_EVERY);
    if (stamps === null) {
      for (; i < stop; i++) {
        time.timestamp = NaN;
        head.collect(records[i]);
      }
    } else {
      for (; i < stop; i++) {
        time.timestamp = stamps[i];
        head.collect(records[i]);
      }
    }
    if (i < n && slice.spent()) break;
  }
  return i;
}

/** Lets the event loop run; `processed`: the records the task got through so far. */
async function yieldSlice(ctx: TaskLoopContext, progress: TaskProgress, slice: WorkSlice, processed: number): Promise<void> {
  progress.waiting(processed);
  // Waiting for the thread is not busy time; and a long busy stretch reports its counts as it
  // goes, so records land in the second they were processed.
  const { outputs } = ctx.init;
  const load = ctx.load;
  load.enter(LoadState.Ready, processed, outputs.recordsEmitted);
  await yieldToEventLoop();
  load.enter(LoadState.Busy, processed, outputs.recordsEmitted);
  slice.restart();
  if (!ctx.init.task.cancelled) progress.working(processed);
}

/**
 * A restarted task first takes its inputs in the order its determinant log names (records
 * from which channel, how many), so it regenerates exactly the output it sent before;
 * downstream tasks drop what they already have by sequence number. `false` when cancelled.
 */
async function replayLoggedOrder(ctx: TaskLoopContext, log: DeterminantLog, progress: TaskProgress, slice: WorkSlice): Promise<boolean> {
  const { gate, outputs, pending, task, logger } = ctx.init;
  const head = ctx.init.chain.head;
  const started = Date.now();
  let replayed = 0;
  while (log.replaying) {
    if (task.cancelled) return false;
    // A watermark rise or a firing of processing-time timers happens where the log has it.
    const event = log.nextEvent();
    if (event !== undefined) {
      if (event.kind === 'watermark') {
        gate.restoreWatermark(event.value);
        ctx.init.chain.processWatermark(event.value);
      } else {
        ctx.init.chain.fireProcessingTimers(event.value);
      }
      log.replayed(event);
      continue;
    }
    const next = log.nextOrder();
    if (next === undefined) throw log.stuck();
    const frame = gate.pollFrom(next.input, next.count);
    if (frame === undefined) {
      progress.waiting(task.recordsIn);
      outputs.flushAll();
      await ctx.waitForInput();
      slice.restart();
      continue;
    }
    if (frame.kind === 'barrier') {
      ctx.init.decline(frame.barrier!.checkpointId, 'the task is replaying its determinant log after a recovery');
      continue;
    }
    if (frame.kind !== 'data') continue;
    const records = frame.records!;
    log.order(next.input, records.length);
    task.recordsIn += records.length;
    replayed += records.length;
    progress.working(task.recordsIn - records.length);
    const stopped = collectSlice(head, records, frame.timestamps, 0, slice);
    if (stopped < records.length && !(await finishFrame(ctx, head, records, frame.timestamps, stopped, progress, slice))) return false;
    progress.advanced(task.recordsIn);
    if (pending.promises.length > 0 || outputs.blocked > 0) progress.waiting(task.recordsIn);
    if (pending.promises.length > 0) await ctx.settleWrites();
    if (outputs.blocked > 0) await ctx.waitForCredit();
  }
  logger.info({ records: replayed, ms: Date.now() - started }, 'replayed inputs in the logged order');
  return true;
}
