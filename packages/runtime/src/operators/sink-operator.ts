import type { SinkFn } from '@mobius/interface';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

/** Promises returned by async sinks while one input batch is processed. */
export class PendingWrites {
  promises: Promise<void>[] = [];

  take(): Promise<void>[] {
    const p = this.promises;
    this.promises = [];
    return p;
  }
}

/**
 * sink: calls the user's function per record. A returned promise is collected; the task
 * awaits a batch's promises together before it takes the next batch, so an async sink is
 * backpressured without an await per record.
 */
export class SinkOperator extends StreamOperator {
  private readonly fn: SinkFn<unknown>;

  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly pending: PendingWrites,
  ) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'sink');
  }

  collect(record: unknown): void {
    let result: void | Promise<void>;
    try {
      result = this.fn(record);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      const write = Promise.resolve(result).catch((e: unknown) => Promise.reject(operatorFailure(this.identity, e)));
      // The task awaits this later (with its batch), possibly after it rejected: mark it handled
      // now so a failing write fails the task instead of being reported as an unhandled rejection.
      write.catch(() => undefined);
      this.pending.promises.push(write);
    }
  }
}

/** Registers kind 'sink'. */
export const SINK_OPERATOR = registerOperator('sink', (ctx) => new SinkOperator(ctx.identity, ctx.fn, ctx.pending));
