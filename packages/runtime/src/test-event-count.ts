/**
 * Test helper (not exported from the package): a keyed operator kind registered as a windowing
 * library would, `test.eventCount`. It counts records per key in keyed state and registers an
 * event-time timer at each record's time; the timer emits the key's count (and the operator's
 * watermark) when the task's watermark passes it.
 */
import type { KeyedStore, OperatorKind, StateKey } from '@mobius/interface';
import type { OperatorIdentity } from './operators/operator.js';
import { registerOperator } from './operators/operator-registry.js';
import { StreamOperator } from './operators/stream-operator.js';

export interface Event {
  readonly k: string;
  readonly t: number;
}

/** What a timer of `test.eventCount` emits. */
export interface Fired {
  readonly key: StateKey;
  readonly time: number;
  readonly count: number;
  readonly watermark: number;
}

class EventCountOperator extends StreamOperator {
  constructor(
    identity: OperatorIdentity,
    private readonly counts: KeyedStore<number>,
  ) {
    super(identity, undefined);
  }

  collect(record: unknown): void {
    const key = this.keys!.key();
    this.counts.put(key, (this.counts.get(key) ?? 0) + 1);
    this.timers!.registerEventTimeTimer((record as Event).t);
  }

  override onTimer(time: number): void {
    const key = this.keys!.key();
    this.out.collect({ key, time, count: this.counts.get(key), watermark: this.currentWatermark });
  }
}

export const EVENT_COUNT = registerOperator('test.eventCount', (ctx) => {
  const op = new EventCountOperator(ctx.identity, ctx.state().keyed<number>('count'));
  op.timers = ctx.timers();
  return op;
}) as OperatorKind;
