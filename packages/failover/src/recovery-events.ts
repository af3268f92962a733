import type { RecoveryEvent as InterfaceRecoveryEvent } from '@mobius/interface';

/** One recovery, as the failover coordinator reports it (logs, HTTP API, dashboard, `job.events()`). */
export type RecoveryEvent = InterfaceRecoveryEvent;

/** What {@link RecoveryEventLog.begin} needs: the event without its outcome. */
export type RecoveryEventStart = Omit<RecoveryEvent, 'durationMs' | 'kind'>;

/** Finishes one event begun with {@link RecoveryEventLog.begin}. The first call wins; later ones return the settled event. */
export interface RecoveryEventHandle {
  /** Every rolled-back task runs again: sets `durationMs`. */
  complete(now?: number): RecoveryEvent;
  /** The recovery gave up: kind `recovery-failed`, `reason` replaced by this one, `durationMs` set. */
  fail(reason: string, now?: number): RecoveryEvent;
}

export interface RecoveryEventLogOptions {
  /** Events kept; the oldest are dropped first. Default 1000. */
  readonly capacity?: number;
}

/** A slot of the log: finishing an event replaces the slot's (frozen) event. */
interface Slot {
  event: RecoveryEvent;
}

/**
 * A bounded log of recoveries, oldest first. Events are frozen: finishing one stores a new
 * object in the same place. An event dropped for capacity before it finished stays dropped;
 * its handle still returns the finished event.
 */
export class RecoveryEventLog {
  private readonly capacity: number;
  private readonly slots: Slot[] = [];

  constructor(options: RecoveryEventLogOptions = {}) {
    const capacity = options.capacity ?? 1000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Starts an event (in progress: kind `recovery`, `durationMs` null); returns a handle to finish it. */
  begin(e: RecoveryEventStart): RecoveryEventHandle {
    const slot: Slot = {
      event: freeze({
        time: e.time,
        kind: 'recovery',
        strategy: e.strategy,
        tasks: [...e.tasks],
        reason: e.reason,
        durationMs: null,
        checkpointId: e.checkpointId,
        failed: [...e.failed],
      }),
    };
    this.slots.push(slot);
    if (this.slots.length > this.capacity) this.slots.splice(0, this.slots.length - this.capacity);
    let settled = false;
    const settle = (change: Partial<RecoveryEvent>, now: number): RecoveryEvent => {
      if (settled) return slot.event;
      settled = true;
      slot.event = freeze({ ...slot.event, ...change, durationMs: Math.max(0, now - slot.event.time) });
      return slot.event;
    };
    return {
      complete: (now = Date.now()) => settle({}, now),
      fail: (reason, now = Date.now()) => settle({ kind: 'recovery-failed', reason }, now),
    };
  }

  /** Every kept event, oldest first; in-progress ones have `durationMs` null. */
  list(): RecoveryEvent[] {
    return this.slots.map((s) => s.event);
  }
}

function freeze(event: RecoveryEvent): RecoveryEvent {
  Object.freeze(event.tasks);
  Object.freeze(event.failed);
  return Object.freeze(event);
}
