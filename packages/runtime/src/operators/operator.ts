import { TaskFailedError, type Collector } from '@mobius/interface';

/** Identity of an operator inside a task, for error messages. */
export interface OperatorIdentity {
  readonly operatorId: string;
  readonly operatorName: string;
  readonly taskIndex: number;
}

/**
 * Wraps a user error once, naming the operator and task. An error that is already a
 * TaskFailedError came from an operator further down the chain and is passed on as it is.
 */
export function operatorFailure(id: OperatorIdentity, error: unknown): TaskFailedError {
  return error instanceof TaskFailedError ? error : new TaskFailedError(id.operatorId, id.operatorName, id.taskIndex, error);
}

/** Drops records and watermarks: the output of an operator nothing reads. */
export const discard: Collector<unknown> & { emitWatermark(watermark: number): void; markIdle(): void } = { collect() {}, emitWatermark() {}, markIdle() {} };

/** Sends each record (and watermark) to several outputs (chained operators and network writers). */
export class FanOut implements Collector<unknown> {
  constructor(private readonly outputs: readonly (Collector<unknown> & { emitWatermark?(watermark: number): void; markIdle?(): void })[]) {}
  collect(record: unknown): void {
    const outs = this.outputs;
    for (let i = 0; i < outs.length; i++) outs[i].collect(record);
  }
  emitWatermark(watermark: number): void {
    for (const o of this.outputs) o.emitWatermark?.(watermark);
  }
  markIdle(): void {
    for (const o of this.outputs) o.markIdle?.();
  }
}

/**
 * A user function taken from a plain function or a rich function object's method. Rich
 * objects are copied per task (same prototype, own fields), so per-task fields set in
 * open() or init() do not leak between parallel tasks.
 */
export function instantiate<F>(fn: unknown): F {
  if (typeof fn === 'object' && fn !== null) {
    return Object.create(Object.getPrototypeOf(fn), Object.getOwnPropertyDescriptors(fn)) as F;
  }
  return fn as F;
}

/** The callable of a user function: the function itself, or the named method bound to its object. */
export function callable<F extends (...args: never[]) => unknown>(fn: unknown, method: string): F {
  if (typeof fn === 'function') return fn as F;
  const m = (fn as Record<string, unknown>)[method];
  return (m as F).bind(fn) as F;
}
