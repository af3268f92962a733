import type { FilterFn } from '@mobius/interface';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

export class FilterOperator extends StreamOperator {
  private readonly fn: FilterFn<unknown>;

  constructor(identity: OperatorIdentity, fn: unknown) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'filter');
  }

  collect(record: unknown): void {
    try {
      if (this.fn(record)) this.out.collect(record);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }
}

/** Registers kind 'filter'. */
export const FILTER_OPERATOR = registerOperator('filter', (ctx) => new FilterOperator(ctx.identity, ctx.fn));
