import { MobiusError, type SourceContext, type SourceFunction } from '@mobius/interface';
import { resolveNexmarkConfig, type NexmarkConfig, type ResolvedNexmarkConfig } from './generator-config.js';
import type { Event } from './model.js';
import { NexmarkGenerator } from './nexmark-generator.js';

/**
 * The Nexmark generator as a parallel Mobius source: task i of p emits the events at positions
 * i, i+p, i+2p, ... (so any parallelism gives the same events), each with its `dateTime` as event
 * time. After each batch the task emits the watermark `minTimestampFrom(next) - 1`: every event
 * it will still emit is at a later position, and positions only run ahead of event time by the
 * out-of-order shuffle, so the watermark lags the task's latest event time by less than one
 * shuffle group (`outOfOrderGroupSize` events of event time) plus one batch, and is exact
 * (never late) by construction. Checkpoints keep the next position; a bounded source ends after
 * the last event (the runtime then sends the watermark +Infinity).
 */
export class NexmarkSource implements SourceFunction<Event> {
  readonly config: ResolvedNexmarkConfig;
  // Made in init(): each task has its own (the runtime gives each task a shallow copy of this object).
  private generator: NexmarkGenerator | undefined;
  private next = 0;
  private step = 1;

  constructor(config: NexmarkConfig = {}) {
    // Validates now, when the job is built, rather than in each task.
    this.config = resolveNexmarkConfig(config);
  }

  init(parallelism: number, index: number): void {
    this.generator = new NexmarkGenerator(this.config);
    this.step = parallelism;
    this.next = index;
  }

  fetch(ctx: SourceContext<Event>): void {
    const generator = (this.generator ??= new NexmarkGenerator(this.config));
    const count = generator.config.count;
    const step = this.step;
    let k = this.next;
    for (let n = generator.config.batchSize; n > 0 && k < count; n--, k += step) {
      const event = generator.event(k);
      ctx.collectWithTimestamp(event, event.dateTime);
    }
    this.next = k;
    if (k >= count) ctx.end();
    else ctx.emitWatermark(generator.minTimestampFrom(k) - 1);
  }

  /** The position of the next event this task emits. */
  snapshotState(): number {
    return this.next;
  }

  restoreState(state: unknown): void {
    if (typeof state !== 'number' || !Number.isSafeInteger(state) || state < 0) {
      throw new MobiusError('NEXMARK_INVALID_STATE', `NexmarkSource.restoreState: expected the position of the next event, got ${JSON.stringify(state)}`);
    }
    this.next = state;
  }
}
