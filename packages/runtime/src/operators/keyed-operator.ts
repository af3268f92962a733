import { normalizeKey, type KeySelector, type RuntimeContext } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { operatorFailure } from './operator.js';
import { StreamOperator, type OperatorOutput } from './stream-operator.js';

/**
 * An operator of a keyed stream (after keyBy): before handing a record to the inner operator it
 * sets the current key (normalised, as the partitioner computes it), so keyed state handles,
 * reduce's value and timers read and write that key. One wrapper for every kind; operators
 * that are not keyed are not wrapped, so their hot path has no key computation.
 */
export class KeyedOperator extends StreamOperator {
  constructor(
    readonly inner: StreamOperator,
    private readonly keySelector: KeySelector<unknown>,
    keys: KeyContext,
  ) {
    super(inner.identity, inner.rich);
    this.keys = keys;
    inner.keys = keys;
    // The chain gave the inner operator the task's element time and processing-time service.
    this.time = inner.time;
    this.processingTime = inner.processingTime;
  }

  collect(record: unknown): void {
    try {
      this.keys!.currentKey = normalizeKey(this.keySelector(record));
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
    this.inner.collect(record);
  }

  override setOutput(out: OperatorOutput): void {
    this.out = out;
    this.inner.setOutput(out);
  }

  override setSideOutputs(outputs: ReadonlyMap<string, OperatorOutput>): void {
    this.sideOutputs = outputs;
    this.inner.setSideOutputs(outputs);
  }

  override open(ctx: RuntimeContext): Promise<void> {
    return this.inner.open(ctx);
  }

  override processWatermark(watermark: number): void {
    this.inner.processWatermark(watermark);
  }

  override markIdle(): void {
    this.inner.markIdle();
  }

  override onTimer(time: number, domain: 'event' | 'processing'): void {
    this.inner.onTimer(time, domain);
  }

  override snapshotState(checkpointId: number): unknown {
    return this.inner.snapshotState(checkpointId);
  }

  override restoreState(state: unknown): Promise<void> {
    return this.inner.restoreState(state);
  }

  override get hasState(): boolean {
    return this.inner.hasState;
  }

  override notifyCheckpointComplete(checkpointId: number): unknown {
    return this.inner.notifyCheckpointComplete(checkpointId);
  }

  override notifyCheckpointAborted(checkpointId: number): unknown {
    return this.inner.notifyCheckpointAborted(checkpointId);
  }

  override finish(): Promise<void> {
    return this.inner.finish();
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}
