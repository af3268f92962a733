import { MobiusError, type KeyedStore, type ReduceFn } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

/**
 * reduce on a keyed stream: folds each record into its key's value, kept in the task's state
 * backend under the store 'reduce' (the same backend as the function's own keyed state), and emits the new value (a changelog of per-key values, as in Ray Streaming). The
 * keyed wrapper sets the current key before each record.
 */
export class ReduceOperator extends StreamOperator {
  private readonly fn: ReduceFn<unknown>;

  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly store: KeyedStore<unknown>,
    private readonly keyContext: KeyContext,
  ) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'reduce');
    this.keys = keyContext;
  }

  // Per record: the key is read once and the store is used directly (a ValueState handle would
  // read the key context again for the write).
  collect(record: unknown): void {
    try {
      const key = this.keyContext.key();
      const store = this.store;
      const current = store.get(key);
      const next = current === undefined ? record : this.fn(current, record);
      store.put(key, next);
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
