/**
 * The event time of the record a task is handing through its chain (Flink's StreamRecord
 * timestamp), one per task and shared by its operators: the input loop or source context sets
 * it before each record, an operator that emits with another time sets it before emitting
 * (windows: `end - 1`; event-time timers: the timer's time), and network writers send it with
 * each record. `NaN`: the record has no timestamp. Records keep their timestamp through map,
 * flatMap and filter, as in Flink.
 */
export class ElementTime {
  timestamp = NaN;

  /** True when the current record has a timestamp. */
  get has(): boolean {
    return this.timestamp === this.timestamp;
  }
}

/**
 * Processing-time callbacks of operators that are not keyed (the timestamps operator's periodic
 * watermark): the task calls them from its loop when due, never during a record.
 */
export interface ProcessingTimeService {
  /** The wall clock in ms. */
  now(): number;
  /** Calls `callback(now)` once, from the task loop, at or after `time`. */
  scheduleAt(time: number, callback: (now: number) => void): void;
}
