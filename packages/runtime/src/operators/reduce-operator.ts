import { MobiusError, type KeyedStore, type ReduceFn } from '@mobius/interface';
import { StoreValueState } from '../state/handles.js';
import type { KeyContext } from '../state/key-context.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

/**
 * reduce on a keyed stream: folds each record into its key's value, kept in the task's state
 * backend as a ValueState (store 'reduce', the same backend as the function's own keyed
 * state), and emits the new value (a changelog of per-key values, as in Ray Streaming). The
 * keyed wrapper sets the current key before each record.
 */
export class ReduceOperator extends StreamOperator {
  private readonly fn: ReduceFn<unknown>;
  private readonly value: StoreValueState<unknown>;

  constructor(identity: OperatorIdentity, fn: unknown, store: KeyedStore<unknown>, keys: KeyContext) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'reduce');
    this.keys = keys;
    this.value = new StoreValueState<unknown>(store, keys, undefined);
  }

  collect(record: unknown): void {
    try {
      const value = this.value;
      const current = value.value();
      const next = current === undefined ? record : this.fn(current, record);
      value.update(next);
      this.out.collect(next);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }
}

/** Registers kind 'reduce' (the planner refuses a reduce without keyBy). */
export const REDUCE_OPERATOR = registerOperator('reduce', (ctx) => {
  if (ctx.keys === undefined) throw new MobiusError('PLAN_INVALID', `reduce "${ctx.node.name}" is not on a keyed stream`);
  // reduce uses the same state backend as keyed state, under the reserved name 'reduce'.
  return new ReduceOperator(ctx.identity, ctx.fn, ctx.state().keyed('reduce'), ctx.keys);
});
