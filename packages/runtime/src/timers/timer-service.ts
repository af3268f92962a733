import type { KeyGroupRange, TimerEntry } from '@mobius/interface';

/** Event time fires on watermarks; processing time on the wall clock. */
export type TimeDomain = 'event' | 'processing';

/** Who a timer fires on (the operator). */
export interface TimerTarget {
  onTimer(time: number, domain: TimeDomain): void;
}

/**
 * The timers of one keyed operator in one task (Flink's InternalTimerService): event-time and
 * processing-time timers per key, at most one per (key, time, domain). A timer fires `onTimer`
 * with its key as the current key. Timers are checkpointed with their key group, so a restore
 * (and a rescale) keeps only the timers of the key groups the task owns.
 *
 * Processing-time timers never fire by themselves: the task calls {@link fireProcessingTimers}
 * from its loop (so a timer never runs concurrently with a record), and `onProcessingTimer`
 * tells it when the earliest one changed so it can wake up then.
 *
 * Two implementations: {@link HeapTimerService} (every timer in memory) and
 * {@link StateTimerService} (timers in the task's keyed state, so a state backend that spills
 * to disk takes them out of the heap with the rest of the state).
 */
export interface TimerService {
  target: TimerTarget | undefined;
  /** Called with the earliest processing time when it changes (the task arms a wake-up). */
  onProcessingTimer: ((time: number) => void) | undefined;
  readonly currentWatermark: number;
  /** Number of live timers (both domains). */
  readonly size: number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** Fires every event-time timer at or below `watermark`. */
  advanceWatermark(watermark: number): void;
  /** Fires every processing-time timer due at `now`. */
  fireProcessingTimers(now: number): void;
  /** The earliest pending processing-time timer (a hint: it may have been deleted), or undefined. */
  nextProcessingTime(): number | undefined;
  /** The timers the task snapshot must carry (those not already in keyed state), with their key group. */
  snapshot(): TimerEntry[];
  /**
   * Called once per restored task snapshot, after the task's state was restored: adds the
   * timers of `entries` whose key group is in `keyGroups`.
   */
  restore(entries: readonly TimerEntry[], keyGroups: KeyGroupRange): void;
}
