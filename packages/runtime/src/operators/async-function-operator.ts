import { CoreOptions, getOperatorConfig, type RichFunction } from '@mobius/interface';
import { AsyncCalls, DEFAULT_ASYNC_SETTINGS, type AsyncHost, type AsyncSettings } from './async-calls.js';
import type { OperatorIdentity } from './operator.js';
import type { OperatorFactoryContext } from './operator-registry.js';
import { PendingWrites } from './pending-writes.js';
import { StreamOperator } from './stream-operator.js';

/**
 * The async settings of an operator: its own `runtime.async.*` options, else the job's. A task
 * whose determinants are logged (single-task failover) keeps results in order whatever the
 * option says: its replay after a recovery must regenerate the same output order, and the order
 * in which calls complete is not logged.
 */
export function asyncSettingsOf(ctx: OperatorFactoryContext, settleWithBatch = false): AsyncSettings {
  const own = ctx.node.config;
  return {
    capacity: getOperatorConfig(own, ctx.jobConfig, CoreOptions.ASYNC_CAPACITY),
    ordered: getOperatorConfig(own, ctx.jobConfig, CoreOptions.ASYNC_ORDERED) || ctx.logsDeterminants,
    timeoutMs: getOperatorConfig(own, ctx.jobConfig, CoreOptions.ASYNC_TIMEOUT_MS),
    settleWithBatch,
  };
}

/**
 * An operator whose user function may return a promise (map, flatMap, filter, sink). It starts
 * on the synchronous path: each record is a direct call and one thenable check. The first
 * thenable a call returns switches the operator to async mode for the rest of the task: from
 * then on every record goes through its {@link AsyncCalls} (a plain value returned later is a
 * call that completed at once, so order holds). An `async` function returns a promise from the
 * first record on, so it is async from its first record.
 */
export abstract class AsyncFunctionOperator extends StreamOperator implements AsyncHost {
  /** Null on the synchronous path. */
  protected calls: AsyncCalls | null = null;

  constructor(
    identity: OperatorIdentity,
    rich: RichFunction | undefined,
    private readonly asyncSettings: AsyncSettings = DEFAULT_ASYNC_SETTINGS,
    private readonly pending: PendingWrites = new PendingWrites(),
  ) {
    super(identity, rich);
  }

  abstract call(record: unknown): unknown;
  abstract emitResult(record: unknown, value: unknown): void;

  /** The synchronous path got `thenable` for `record`: async mode from here on. */
  protected toAsync(record: unknown, thenable: PromiseLike<unknown>): void {
    const calls = new AsyncCalls(this, this.asyncSettings, this.pending);
    this.calls = calls;
    calls.begin(record, thenable);
  }

  /** True once the operator runs in async mode. */
  get isAsync(): boolean {
    return this.calls !== null;
  }

  override processWatermark(watermark: number): void {
    const calls = this.calls;
    if (calls !== null && calls.busy) calls.pushWatermark(watermark);
    else super.processWatermark(watermark);
  }

  forwardWatermark(watermark: number): void {
    super.processWatermark(watermark);
  }

  override async finish(): Promise<void> {
    if (this.calls !== null) await this.calls.drain();
    await super.finish();
  }

  override async close(): Promise<void> {
    this.calls?.close();
    await super.close();
  }
}
