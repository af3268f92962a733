import type { FilterFn } from '@mobius/interface';
import type { AsyncSettings } from './async-calls.js';
import { isThenable } from './async-calls.js';
import { AsyncFunctionOperator, asyncSettingsOf } from './async-function-operator.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import type { PendingWrites } from './pending-writes.js';
import { richOf } from './stream-operator.js';

/** filter: keeps the records the function is truthy for; a promise is awaited (never taken as truthy). */
export class FilterOperator extends AsyncFunctionOperator {
  private readonly fn: FilterFn<unknown>;

  constructor(identity: OperatorIdentity, fn: unknown, settings?: AsyncSettings, pending?: PendingWrites) {
    super(identity, richOf(fn), settings, pending);
    this.fn = callable(fn, 'filter');
  }

  collect(record: unknown): void {
    if (this.calls !== null) {
      this.calls.push(record);
      return;
    }
    let keep: unknown;
    try {
      keep = this.fn(record);
      if (!keep) return;
      if (!isThenable(keep)) {
        this.out.collect(record);
        return;
      }
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    this.toAsync(record, keep);
  }

  call(record: unknown): unknown {
    return this.fn(record);
  }

  emitResult(record: unknown, keep: unknown): void {
    if (keep) this.out.collect(record);
  }
}

/** Registers kind 'filter'. */
export const FILTER_OPERATOR = registerOperator('filter', (ctx) => new FilterOperator(ctx.identity, ctx.fn, asyncSettingsOf(ctx), ctx.pending));
