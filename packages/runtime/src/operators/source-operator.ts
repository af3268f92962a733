import type { SourceFunction } from '@mobius/interface';
import type { OperatorIdentity } from './operator.js';
import { StreamOperator } from './stream-operator.js';

/** The head of a source task: holds the source function; records enter the chain at `out`. */
export class SourceOperator extends StreamOperator {
  constructor(
    identity: OperatorIdentity,
    readonly source: SourceFunction<unknown>,
  ) {
    super(identity, source);
  }

  collect(record: unknown): void {
    this.out.collect(record);
  }
}
