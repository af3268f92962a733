import type { AutoscalerEvent } from './autoscaler-event.js';

/** Events an autoscaler event log keeps unless told otherwise: with the default interval of 10 s, almost three hours. */
export const AUTOSCALER_EVENT_LOG_CAPACITY = 1000;

/**
 * The autoscaler events of one job, oldest first, at most `capacity` of them: an evaluation
 * happens every `autoscaler.interval.ms` for as long as the job runs, so the oldest are dropped
 * (and counted) rather than kept forever. A ring, so that a full log costs nothing per event.
 */
export class AutoscalerEventLog {
  readonly capacity: number;
  /** Events dropped for capacity so far. */
  dropped = 0;
  private readonly ring: AutoscalerEvent[] = [];
  /** Where the oldest event is, once the ring is full. */
  private head = 0;

  constructor(capacity: number = AUTOSCALER_EVENT_LOG_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`autoscaler event log capacity must be an integer of at least 1, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  add(event: AutoscalerEvent): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(event);
      return;
    }
    this.ring[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
    this.dropped++;
  }

  /** The kept events, oldest first (a copy). */
  list(): AutoscalerEvent[] {
    return [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }
}
