import type { FlatMapFn } from '@mobius/interface';
import { callable, operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import { StreamOperator, richOf } from './stream-operator.js';

/** flatMap: the function returns an iterable (arrays take a plain indexed loop) or emits through the collector. */
export class FlatMapOperator extends StreamOperator {
  private readonly fn: FlatMapFn<unknown, unknown>;

  constructor(identity: OperatorIdentity, fn: unknown) {
    super(identity, richOf(fn));
    this.fn = callable(fn, 'flatMap');
  }

  collect(record: unknown): void {
    try {
      const out = this.out;
      const result = this.fn(record, out);
      if (result === undefined || result === null) return;
      if (Array.isArray(result)) {
        for (let i = 0; i < result.length; i++) out.collect(result[i]);
      } else {
        for (const r of result) out.collect(r);
      }
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }
}

/** Registers kind 'flatMap'. */
export const FLAT_MAP_OPERATOR = registerOperator('flatMap', (ctx) => new FlatMapOperator(ctx.identity, ctx.fn));
