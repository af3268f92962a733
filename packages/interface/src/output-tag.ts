import { PlanError } from './errors.js';

/**
 * Names a side output of an operator (Flink's OutputTag): a process function emits to it with
 * `ctx.output(tag, value)`, a window sends late records to it with `sideOutputLateData(tag)`,
 * and `stream.getSideOutput(tag)` reads it as a `DataStream<T>`. Two tags are the same side
 * output when their ids are equal.
 */
export class OutputTag<T = unknown> {
  /** Phantom field so that OutputTag<A> and OutputTag<B> are distinct types. */
  declare readonly __record?: T;

  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) throw new PlanError('PLAN_INVALID_FUNCTION', `an OutputTag needs a non-empty string id, got ${JSON.stringify(id)}`);
  }

  toString(): string {
    return `OutputTag(${this.id})`;
  }
}
