import { registerOperator } from './operator-registry.js';
import { StreamOperator } from './stream-operator.js';
import type { OperatorIdentity } from './operator.js';

/** union: records of every input pass through unchanged. */
export class UnionOperator extends StreamOperator {
  constructor(identity: OperatorIdentity) {
    super(identity, undefined);
  }

  collect(record: unknown): void {
    this.out.collect(record);
  }
}

/** Registers kind 'union'. */
export const UNION_OPERATOR = registerOperator('union', (ctx) => new UnionOperator(ctx.identity));
