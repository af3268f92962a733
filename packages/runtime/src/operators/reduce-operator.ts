import type { KeyedStore, KeySelector, ReduceFn } from '@mobius/interface';
import { normalizeKey } from '@mobius/interface';
import { StoreValueState } from '../state/handles.js';
import { KeyContext } from '../state/key-context.js';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { StreamOperator, richOf } from './stream-operator.js';

/**
 * reduce on a keyed stream: folds each record into its key's value, kept in the task's state
 * backend as a ValueState (store 'reduce', the same backend as the function's own keyed
 * state), and emits the new value (a changelog of per-key values, as in Ray Streaming).
 */
export class ReduceOperator extends StreamOperator {
  private readonly fn: ReduceFn<unknown>;
  private readonly value: StoreValueState<unknown>;

  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly keySelector: KeySelector<unknown>,
    store: KeyedStore<unknown>,
    private readonly keyContext: KeyContext = new KeyContext(identity.operatorName),
  ) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'reduce');
    this.keys = keyContext;
    this.value = new StoreValueState<unknown>(store, keyContext, undefined);
  }

  collect(record: unknown): void {
    try {
      const key = normalizeKey(this.keySelector(record));
      // The current key scopes the ValueState below and the function's own keyed state.
      this.keyContext.currentKey = key;
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
