import type { Collector, FlatMapFn } from '@mobius/interface';
import type { AsyncSettings } from './async-calls.js';
import { isThenable } from './async-calls.js';
import { AsyncFunctionOperator, asyncSettingsOf } from './async-function-operator.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import type { PendingWrites } from './pending-writes.js';
import { richOf } from './stream-operator.js';

/**
 * flatMap: the function returns an iterable (arrays take a plain indexed loop) or emits through
 * the collector. A returned promise is awaited and its iterable emitted in turn; an async
 * function must return its results (what it collects goes out at once, out of turn).
 */
export class FlatMapOperator extends AsyncFunctionOperator {
  private readonly fn: FlatMapFn<unknown, unknown>;

  constructor(identity: OperatorIdentity, fn: unknown, settings?: AsyncSettings, pending?: PendingWrites) {
    super(identity, richOf(fn), settings, pending);
    this.fn = callable(fn, 'flatMap');
  }

  collect(record: unknown): void {
    if (this.calls !== null) {
      this.calls.push(record);
      return;
    }
    try {
      const result = this.fn(record, this.out);
      if (isThenable(result)) this.toAsync(record, result);
      else emitAll(this.out, result);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  call(record: unknown): unknown {
    return this.fn(record, this.out);
  }

  emitResult(_record: unknown, value: unknown): void {
    emitAll(this.out, value as Iterable<unknown> | void);
  }
}

function emitAll(out: Collector<unknown>, result: Iterable<unknown> | void | null): void {
  if (result === undefined || result === null) return;
  if (Array.isArray(result)) {
    for (let i = 0; i < result.length; i++) out.collect(result[i]);
  } else {
    for (const r of result) out.collect(r);
  }
}

/** Registers kind 'flatMap'. */
export const FLAT_MAP_OPERATOR = registerOperator('flatMap', (ctx) => new FlatMapOperator(ctx.identity, ctx.fn, asyncSettingsOf(ctx), ctx.pending));
