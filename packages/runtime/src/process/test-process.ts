// Fixtures of the process operator tests: a keyed or plain operator with its timers, element time and outputs.
import type { KeySelector } from '@mobius/interface';
import { KeyedOperator } from '../operators/keyed-operator.js';
import type { StreamOperator } from '../operators/stream-operator.js';
import { id, keyedStore } from '../operators/test-operators.js';
import { KeyContext } from '../state/key-context.js';
import { stateKeyGroupOf } from '../state/operator-state.js';
import { HeapTimerService } from '../timers/heap-timer-service.js';
import type { TimerService } from '../timers/timer-service.js';

/** An emitted record with the timestamp it left with (NaN: none). */
export type Emitted = [unknown, number];

export interface Harness {
  readonly op: StreamOperator;
  readonly inner: StreamOperator;
  readonly out: Emitted[];
  readonly side: Map<string, Emitted[]>;
  /** Hands `record` with event time `ts` (NaN: none) to the operator. */
  push(record: unknown, ts?: number): void;
  watermark(wm: number): void;
  /** Fires the processing-time timers due at `now`. */
  clock(now: number): void;
  readonly timers: TimerService | undefined;
}

/** Wires `inner` as the chain would: keyed (with `selector`) or not, main output and side outputs `tags`. */
export function harness(inner: StreamOperator, selector?: KeySelector<unknown>, tags: readonly string[] = []): Harness {
  const out: Emitted[] = [];
  const side = new Map<string, Emitted[]>();
  let op: StreamOperator = inner;
  let timers: TimerService | undefined;
  if (selector !== undefined) {
    const keys = new KeyContext('op');
    timers = new HeapTimerService(keys, stateKeyGroupOf(128));
    timers.target = inner;
    inner.timers = timers;
    op = new KeyedOperator(inner, selector, keys);
  }
  const time = inner.time;
  op.time = time;
  op.setOutput({ collect: (v) => void out.push([v, time.timestamp]), emitWatermark: () => undefined });
  const sides = new Map(tags.map((t) => {
    const list: Emitted[] = [];
    side.set(t, list);
    return [t, { collect: (v: unknown) => void list.push([v, time.timestamp]) }] as const;
  }));
  inner.sideOutputs = sides;
  return {
    op,
    inner,
    out,
    side,
    timers,
    push(record, ts = NaN) {
      time.timestamp = ts;
      op.collect(record);
    },
    watermark(wm) {
      time.timestamp = NaN;
      op.processWatermark(wm);
    },
    clock(now) {
      timers?.fireProcessingTimers(now);
    },
  };
}

export { id, keyedStore };
