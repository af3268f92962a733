// A window operator outside a task, for the window tests: keyed state in a memory backend, a real
// timer service, a hand-driven processing-time clock, outputs recorded with their timestamps.
import { OutputTag, type KeyGroupRange, type LogicalNode, type TaskStateBackend, type StateSnapshot, type TimerEntry } from '@mobius/interface';
import type { WindowSpec } from '@mobius/windowing';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { KeyContext } from '../state/key-context.js';
import { stateKeyGroupOf } from '../state/operator-state.js';
import { HeapTimerService } from '../timers/heap-timer-service.js';
import { StateTimerService } from '../timers/state-timer-service.js';
import type { TimerService } from '../timers/timer-service.js';
import type { OperatorFactoryContext } from '../operators/operator-registry.js';
import { normalizeKey } from '@mobius/interface';
import { createWindowOperator, type WindowOperator } from './window-operator.js';

const MAX = 128;

export interface HarnessOptions {
  /** State and timers to restore (by `ready()`). */
  readonly restore?: { state: StateSnapshot; timers: TimerEntry[] };
  /** The key groups this task owns (a rescaled task owns part of them). */
  readonly keyGroups?: KeyGroupRange;
  /** Timers on the heap, or in keyed state (small buckets, so a bucket is often read before all of it is due). */
  readonly timers?: 'heap' | 'state';
}

export interface Emitted {
  value: unknown;
  timestamp: number;
}

export class WindowHarness {
  readonly keys = new KeyContext('window');
  readonly state: TaskStateBackend;
  readonly timers: TimerService;
  readonly op: WindowOperator;
  readonly out: Emitted[] = [];
  readonly late: Emitted[] = [];
  now = 0;

  readonly keyGroups: KeyGroupRange;

  constructor(
    readonly spec: WindowSpec,
    options: HarnessOptions = {},
  ) {
    const { restore, keyGroups = { start: 0, end: MAX - 1 }, timers = 'heap' } = options;
    this.keyGroups = keyGroups;
    this.state = new MemoryStateBackend().create({ jobId: 'job-1', operatorId: 'window-1', taskIndex: 0, maxParallelism: MAX, keyGroups, keyGroupOf: stateKeyGroupOf(MAX) });
    this.timers =
      timers === 'heap' ? new HeapTimerService(this.keys, stateKeyGroupOf(MAX)) : new StateTimerService(this.keys, stateKeyGroupOf(MAX), keyGroups, this.state, { bucketMs: 10 });
    const node = { id: 'window-1', name: 'window', kind: 'window' } as LogicalNode;
    const ctx = {
      node,
      identity: { operatorId: 'window-1', operatorName: 'window', taskIndex: 0 },
      fn: spec,
      keyed: true,
      keys: this.keys,
      state: () => this.state,
      timers: () => this.timers,
    } as unknown as OperatorFactoryContext;
    this.op = createWindowOperator(ctx);
    this.timers.target = this.op;
    this.op.processingTime = { now: () => this.now, scheduleAt: () => undefined };
    const op = this.op;
    this.op.setOutput({ collect: (value) => void this.out.push({ value, timestamp: op.time.timestamp }) });
    if (spec.lateDataTag !== undefined) {
      this.op.sideOutputs = new Map([[spec.lateDataTag, { collect: (value: unknown) => void this.late.push({ value, timestamp: op.time.timestamp }) }]]);
    }
    this.restored = restore;
  }

  private restored: { state: StateSnapshot; timers: TimerEntry[] } | undefined;

  /** Restores state and timers given to the constructor (async: the backend's restore is). */
  async ready(): Promise<this> {
    if (this.restored !== undefined) {
      await this.state.restore([this.restored.state]);
      this.timers.restore(this.restored.timers, this.keyGroups);
    }
    return this;
  }

  /** Hands `value` of `key` at event time `timestamp` (NaN: none) to the operator. */
  add(key: unknown, value: unknown, timestamp = NaN): void {
    this.keys.currentKey = normalizeKey(key);
    this.op.time.timestamp = timestamp;
    this.op.collect(value);
  }

  watermark(wm: number): void {
    this.op.processWatermark(wm);
  }

  /** Moves the processing-time clock and fires what is due. */
  advanceClock(now: number): void {
    this.now = now;
    this.timers.fireProcessingTimers(now);
  }

  async snapshot(): Promise<{ state: StateSnapshot; timers: TimerEntry[] }> {
    return { state: await this.state.snapshot(1), timers: this.timers.snapshot() };
  }

  values(): unknown[] {
    return this.out.map((e) => e.value);
  }
}

export const lateTag = new OutputTag<unknown>('late');

/** A spec with the defaults of the API: no trigger, no lateness, no late tag, no window function. */
export function spec(over: Partial<WindowSpec> & Pick<WindowSpec, 'assigner' | 'contents'>): WindowSpec {
  return { trigger: undefined, allowedLateness: 0, lateDataTag: undefined, windowFunction: undefined, ...over };
}
