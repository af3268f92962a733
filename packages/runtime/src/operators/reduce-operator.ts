import type { KeyedStore, KeySelector, ReduceFn } from '@mobius/interface';
import { normalizeKey } from '@mobius/planner';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { StreamOperator, richOf } from './stream-operator.js';

/**
 * reduce on a keyed stream: folds each record into its key's value, kept in the task's state
 * backend, and emits the new value (a changelog of per-key values, as in Ray Streaming).
 */
export class ReduceOperator extends StreamOperator {
  private readonly fn: ReduceFn<unknown>;

  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly keySelector: KeySelector<unknown>,
    private readonly store: KeyedStore<unknown>,
  ) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'reduce');
  }

  collect(record: unknown): void {
    try {
      const key = normalizeKey(this.keySelector(record));
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
