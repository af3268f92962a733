import type { MapFn } from '@mobius/interface';
import type { AsyncSettings } from './async-calls.js';
import { isThenable } from './async-calls.js';
import { AsyncFunctionOperator, asyncSettingsOf } from './async-function-operator.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import type { PendingWrites } from './pending-writes.js';
import { richOf } from './stream-operator.js';

/** map: one output per input; a function returning a promise is awaited (see AsyncFunctionOperator). */
export class MapOperator extends AsyncFunctionOperator {
  private readonly fn: MapFn<unknown, unknown>;

  constructor(identity: OperatorIdentity, fn: unknown, settings?: AsyncSettings, pending?: PendingWrites) {
    super(identity, richOf(fn), settings, pending);
    this.fn = callable(fn, 'map');
  }

  collect(record: unknown): void {
    if (this.calls !== null) {
      this.calls.push(record);
      return;
    }
    let value: unknown;
    try {
      value = this.fn(record);
      if (!isThenable(value)) {
        this.out.collect(value);
        return;
      }
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    this.toAsync(record, value);
  }

  call(record: unknown): unknown {
    return this.fn(record);
  }

  emitResult(_record: unknown, value: unknown): void {
    this.out.collect(value);
  }
}

/** Registers kind 'map'. */
export const MAP_OPERATOR = registerOperator('map', (ctx) => new MapOperator(ctx.identity, ctx.fn, asyncSettingsOf(ctx), ctx.pending));
