import type { SinkFn } from '@mobius/interface';
import type { AsyncSettings } from './async-calls.js';
import { DEFAULT_ASYNC_SETTINGS, isThenable } from './async-calls.js';
import { AsyncFunctionOperator, asyncSettingsOf } from './async-function-operator.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import type { PendingWrites } from './pending-writes.js';
import { richOf } from './stream-operator.js';

export { PendingWrites } from './pending-writes.js';

const SINK_SETTINGS: AsyncSettings = { ...DEFAULT_ASYNC_SETTINGS, settleWithBatch: true };

/**
 * sink: calls the user's function per record. A returned promise makes the sink async: writes
 * start in input order, at most `runtime.async.capacity` at a time, and the task awaits a batch's
 * writes together before it takes the next batch (and before a barrier), so an async sink is
 * backpressured without an await per record.
 */
export class SinkOperator extends AsyncFunctionOperator {
  private readonly fn: SinkFn<unknown>;

  constructor(identity: OperatorIdentity, fn: unknown, pending: PendingWrites, settings: AsyncSettings = SINK_SETTINGS) {
    super(identity, richOf(fn), settings, pending);
    this.fn = callable(fn, 'sink');
  }

  collect(record: unknown): void {
    if (this.calls !== null) {
      this.calls.push(record);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.fn(record);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    if (result !== undefined && isThenable(result)) this.toAsync(record, result);
  }

  call(record: unknown): unknown {
    return this.fn(record);
  }

  emitResult(): void {}
}

/** Registers kind 'sink'. */
export const SINK_OPERATOR = registerOperator('sink', (ctx) => new SinkOperator(ctx.identity, ctx.fn, ctx.pending, asyncSettingsOf(ctx, true)));
