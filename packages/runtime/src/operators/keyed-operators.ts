import type { KeySelector } from '@mobius/interface';
import { normalizeKey } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { FilterOperator } from './filter-operator.js';
import { FlatMapOperator } from './flat-map-operator.js';
import { MapOperator } from './map-operator.js';
import { operatorFailure, type OperatorIdentity } from './operator.js';
import { SinkOperator, type PendingWrites } from './sink-operator.js';

/*
 * The operators of a keyed stream (after keyBy): before calling the user's function for a
 * record they set the current key (normalised, as the partitioner and reduce compute it), so
 * the function's keyed state handles read and write that key's values. Operators that are not
 * keyed are the plain classes: their hot path has no key computation.
 */

function setKey(op: { readonly identity: OperatorIdentity }, keys: KeyContext, selector: KeySelector<unknown>, record: unknown): void {
  try {
    keys.currentKey = normalizeKey(selector(record));
  } catch (e) {
    throw operatorFailure(op.identity, e);
  }
}

export class KeyedMapOperator extends MapOperator {
  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly keySelector: KeySelector<unknown>,
    readonly keyContext: KeyContext,
  ) {
    super(identity, fn);
    this.keys = keyContext;
  }

  override collect(record: unknown): void {
    setKey(this, this.keyContext, this.keySelector, record);
    super.collect(record);
  }
}

export class KeyedFlatMapOperator extends FlatMapOperator {
  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly keySelector: KeySelector<unknown>,
    readonly keyContext: KeyContext,
  ) {
    super(identity, fn);
    this.keys = keyContext;
  }

  override collect(record: unknown): void {
    setKey(this, this.keyContext, this.keySelector, record);
    super.collect(record);
  }
}

export class KeyedFilterOperator extends FilterOperator {
  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    private readonly keySelector: KeySelector<unknown>,
    readonly keyContext: KeyContext,
  ) {
    super(identity, fn);
    this.keys = keyContext;
  }

  override collect(record: unknown): void {
    setKey(this, this.keyContext, this.keySelector, record);
    super.collect(record);
  }
}

export class KeyedSinkOperator extends SinkOperator {
  constructor(
    identity: OperatorIdentity,
    fn: unknown,
    pending: PendingWrites,
    private readonly keySelector: KeySelector<unknown>,
    readonly keyContext: KeyContext,
  ) {
    super(identity, fn, pending);
    this.keys = keyContext;
  }

  override collect(record: unknown): void {
    setKey(this, this.keyContext, this.keySelector, record);
    super.collect(record);
  }
}
