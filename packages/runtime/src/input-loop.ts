import type { DeterminantLog } from './failover/determinant-log.js';
import type { TaskLoopContext } from './task-loop-context.js';

/**
 * The loop of a task with input channels (Flink's StreamTask input processing): takes a frame
 * from the gate, pushes its records through the chain with direct calls, and waits only between
 * frames (for input, for credit, or for an async sink's batch). Aligned barriers snapshot the
 * task; a rise of the input watermark goes through the chain.
 */
export async function runInputs(ctx: TaskLoopContext): Promise<void> {
  const { gate, outputs, pending, task, orderLog: log } = ctx.init;
  const head = ctx.init.chain.head;
  if (log?.replaying === true) await replayLoggedOrder(ctx, log);
  for (;;) {
    if (task.cancelled) return;
    if (ctx.timersDue) ctx.fireDueTimers();
    const frame = gate.poll();
    if (frame === undefined) {
      if (gate.finished) return;
      // Nothing to read: send partial batches now rather than hold them.
      outputs.flushAll();
      await gate.whenReadable();
      continue;
    }
    if (frame.kind === 'barrier') {
      await ctx.barrier(frame.barrier!);
      continue;
    }
    if (frame.kind === 'watermark') {
      ctx.init.chain.processWatermark(frame.watermark!);
    } else if (frame.kind === 'data') {
      const records = frame.records!;
      // The choice of input is logged before the output that depends on it is produced.
      if (log !== undefined) log.order(gate.lastIndex, records.length);
      task.recordsIn += records.length;
      for (let i = 0; i < records.length; i++) head.collect(records[i]);
    }
    if (pending.promises.length > 0) await ctx.settleWrites();
    if (outputs.blocked > 0) await outputs.whenRelieved();
  }
}

/**
 * A restarted task first takes its inputs in the order its determinant log names (records
 * from which channel, how many), so it regenerates exactly the output it sent before;
 * downstream tasks drop what they already have by sequence number.
 */
async function replayLoggedOrder(ctx: TaskLoopContext, log: DeterminantLog): Promise<void> {
  const { gate, outputs, pending, task, logger } = ctx.init;
  const head = ctx.init.chain.head;
  const started = Date.now();
  let replayed = 0;
  while (log.replaying) {
    if (task.cancelled) return;
    const next = log.nextOrder();
    if (next === undefined) throw log.stuck();
    const frame = gate.pollFrom(next.input, next.count);
    if (frame === undefined) {
      outputs.flushAll();
      await gate.whenReadable();
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
    for (let i = 0; i < records.length; i++) head.collect(records[i]);
    if (pending.promises.length > 0) await ctx.settleWrites();
    if (outputs.blocked > 0) await outputs.whenRelieved();
  }
  logger.info({ records: replayed, ms: Date.now() - started }, 'replayed inputs in the logged order');
}
