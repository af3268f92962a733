import type { MapFn } from '@mobius/interface';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

export class MapOperator extends StreamOperator {
  private readonly fn: MapFn<unknown, unknown>;

  constructor(identity: OperatorIdentity, fn: unknown) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'map');
  }

  collect(record: unknown): void {
    try {
      this.out.collect(this.fn(record));
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }
}

/** Registers kind 'map'. */
export const MAP_OPERATOR = registerOperator('map', (ctx) => new MapOperator(ctx.identity, ctx.fn));
