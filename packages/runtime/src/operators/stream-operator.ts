import type { Collector, RichFunction, RuntimeContext } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { discard, operatorFailure, type OperatorIdentity } from './operator.js';

/**
 * Base of the operators of a chain. `collect` is the hot path: a direct call per record,
 * no promise, no allocation beyond what the user's function makes.
 */
export abstract class StreamOperator<I = unknown> implements Collector<I> {
  out: Collector<unknown> = discard;
  /** The current key, on an operator of a keyed stream (set before each call of the function). */
  keys: KeyContext | undefined = undefined;

  constructor(
    readonly identity: OperatorIdentity,
    /** The user's rich function object, if it is one (for open/close). */
    readonly rich: RichFunction | undefined,
  ) {}

  abstract collect(record: I): void;

  async open(ctx: RuntimeContext): Promise<void> {
    try {
      await this.rich?.open?.(ctx);
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  /** Called once the input has ended, before close: emit anything held back. */
  finish(): void | Promise<void> {}

  async close(): Promise<void> {
    try {
      await this.rich?.close?.();
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }
}

export function richOf(fn: unknown): RichFunction | undefined {
  return typeof fn === 'object' && fn !== null ? (fn as RichFunction) : undefined;
}
