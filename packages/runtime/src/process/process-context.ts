import {
  ProcessError,
  type BroadcastState,
  type Collector,
  type MapStateDescriptor,
  type OutputTag,
  type TimeDomain,
  type TimerService,
} from '@mobius/interface';
import type { StreamOperator } from '../operators/stream-operator.js';
import type { BroadcastStates } from './broadcast-states.js';
import { userKey } from './current-key.js';

function checkTime(ms: unknown, method: string, operatorName: string): number {
  if (typeof ms !== 'number' || ms !== ms) {
    throw new ProcessError('PROCESS_INVALID_ARGUMENT', `${method}() in "${operatorName}" takes a time in ms, got ${String(ms)}`);
  }
  return ms;
}

/**
 * The one context object of a process operator (every variant: keyed or not, one or two inputs,
 * broadcast): the operator sets `timestampMs`, `domain` and `writable` before each call, so no
 * object is made per record. It is also the function's `out` (records leave with
 * `timestampMs`, even when a chained operator changed the task's element time in between) and
 * its timer service.
 */
export class ProcessFunctionContext implements TimerService, Collector<unknown> {
  /** The event time of what is being processed (NaN: none). */
  timestampMs = NaN;
  /** The clock that fired the current timer. */
  domain: TimeDomain = 'event';
  /** True inside processBroadcastElement: broadcast state is writable. */
  writable = false;

  constructor(
    private readonly op: StreamOperator,
    private readonly broadcast: BroadcastStates | undefined,
  ) {}

  collect(value: unknown): void {
    this.op.time.timestamp = this.timestampMs;
    this.op.out.collect(value);
  }

  timestamp(): number | undefined {
    const ts = this.timestampMs;
    return ts === ts ? ts : undefined;
  }

  getCurrentKey(): unknown {
    const keys = this.op.keys;
    if (keys === undefined) return undefined;
    return userKey(keys.key());
  }

  timeDomain(): TimeDomain {
    return this.domain;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.time.timestamp = this.timestampMs;
    this.op.output(tag, value);
  }

  timerService(): TimerService {
    return this;
  }

  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    if (this.broadcast === undefined) {
      throw new ProcessError('PROCESS_INVALID_ARGUMENT', `getBroadcastState() in "${this.op.identity.operatorName}": this operator has no broadcast input (connect a BroadcastStream)`);
    }
    return this.broadcast.get(descriptor, this.writable);
  }

  // ---- TimerService ----

  currentWatermark(): number {
    return this.op.currentWatermark;
  }

  currentProcessingTime(): number {
    return this.op.processingTime.now();
  }

  registerEventTimeTimer(ms: number): void {
    this.timers('registerEventTimeTimer').registerEventTimeTimer(checkTime(ms, 'registerEventTimeTimer', this.op.identity.operatorName));
  }

  registerProcessingTimeTimer(ms: number): void {
    this.timers('registerProcessingTimeTimer').registerProcessingTimeTimer(checkTime(ms, 'registerProcessingTimeTimer', this.op.identity.operatorName));
  }

  deleteEventTimeTimer(ms: number): void {
    this.timers('deleteEventTimeTimer').deleteEventTimeTimer(ms);
  }

  deleteProcessingTimeTimer(ms: number): void {
    this.timers('deleteProcessingTimeTimer').deleteProcessingTimeTimer(ms);
  }

  private timers(method: string): NonNullable<StreamOperator['timers']> {
    const timers = this.op.timers;
    if (timers === undefined || this.op.keys === undefined) {
      throw new ProcessError(
        'PROCESS_NO_TIMERS',
        `${method}() in "${this.op.identity.operatorName}": timers need a keyed stream, call keyBy() before process()`,
      );
    }
    if (this.writable) {
      throw new ProcessError('PROCESS_NO_TIMERS', `${method}() in processBroadcastElement of "${this.op.identity.operatorName}": a broadcast element has no key, so it cannot set a timer`);
    }
    return timers;
  }
}
