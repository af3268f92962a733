import type { SourceFunction } from '@mobius/interface';
import { CollectionSource } from '../sources/collection-source.js';
import { TextFileSource } from '../sources/text-file-source.js';
import { instantiate, type OperatorIdentity } from './operator.js';
import { registerOperator, type OperatorFactoryContext } from './operator-registry.js';
import { StreamOperator } from './stream-operator.js';

/**
 * The head of a source task: holds the source function; records enter the chain at `out`.
 * The source's offset is checkpointed by the task (`TaskSnapshot.source`), not as function state.
 */
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

  override snapshotState(): unknown {
    return undefined;
  }

  override get hasState(): boolean {
    return false;
  }

  override async restoreState(): Promise<void> {}
}

function createSource(ctx: OperatorFactoryContext): SourceFunction<unknown> {
  const { node } = ctx;
  const spec = node.source!;
  switch (spec.type) {
    case 'collection':
      return new CollectionSource(node.data ?? [], ctx.batchSize);
    case 'textFile':
      return new TextFileSource(spec.path, ctx.batchSize) as SourceFunction<unknown>;
    case 'function':
      return instantiate<SourceFunction<unknown>>(node.fn);
  }
}

/** Registers kind 'source'. */
export const SOURCE_OPERATOR = registerOperator('source', (ctx) => new SourceOperator(ctx.identity, createSource(ctx)));
