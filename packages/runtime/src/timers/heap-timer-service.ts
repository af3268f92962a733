import type { KeyGroupRange, StateKey, TimerEntry } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import type { TimeDomain, TimerService, TimerTarget } from './timer-service.js';

interface Timer {
  readonly id: string;
  readonly key: StateKey;
  readonly time: number;
}

/** A binary min-heap of timers by time (ties by registration order are not promised). */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].time <= a[i].time) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].time < a[m].time) m = l;
        if (r < a.length && a[r].time < a[m].time) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

const timerId = (domain: TimeDomain, key: StateKey, time: number): string => `${domain[0]}${typeof key}:${String(key)}@${time}`;

/**
 * Timers on the heap (Flink's HeapPriorityQueue timers): a Map of live timers and one binary
 * heap per domain. The fastest, and what the memory state backend uses; every timer is in
 * memory, and the task snapshot carries them as {@link TimerEntry} lists.
 */
export class HeapTimerService implements TimerService {
  private readonly event = new TimerHeap();
  private readonly processing = new TimerHeap();
  /** Live timers by id; a heap entry not in here (or replaced) was deleted. */
  private readonly live = new Map<string, Timer>();
  target: TimerTarget | undefined = undefined;
  onProcessingTimer: ((time: number) => void) | undefined = undefined;
  private watermark = -Infinity;

  constructor(
    private readonly keys: KeyContext,
    private readonly keyGroupOf: (key: StateKey) => number,
  ) {}

  get currentWatermark(): number {
    return this.watermark;
  }

  /** Number of live timers (both domains). */
  get size(): number {
    return this.live.size;
  }

  registerEventTimeTimer(time: number): void {
    this.register('event', this.keys.key(), time);
  }

  deleteEventTimeTimer(time: number): void {
    this.live.delete(timerId('event', this.keys.key(), time));
  }

  registerProcessingTimeTimer(time: number): void {
    this.register('processing', this.keys.key(), time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.live.delete(timerId('processing', this.keys.key(), time));
  }

  private register(domain: TimeDomain, key: StateKey, time: number): void {
    const id = timerId(domain, key, time);
    if (this.live.has(id)) return;
    const t: Timer = { id, key, time };
    this.live.set(id, t);
    if (domain === 'event') {
      this.event.push(t);
    } else {
      const before = this.processing.peek();
      this.processing.push(t);
      if (before === undefined || time < before.time) this.onProcessingTimer?.(time);
    }
  }

  /** Fires, in time order, every event-time timer at or below `watermark`. */
  advanceWatermark(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark;
    this.fire(this.event, 'event', watermark);
  }

  /** Fires, in time order, every processing-time timer due at `now`. */
  fireProcessingTimers(now: number): void {
    this.fire(this.processing, 'processing', now);
    const next = this.nextProcessingTime();
    if (next !== undefined) this.onProcessingTimer?.(next);
  }

  /** The earliest live processing-time timer, or undefined. */
  nextProcessingTime(): number | undefined {
    const heap = this.processing;
    for (let t = heap.peek(); t !== undefined; t = heap.peek()) {
      if (this.live.get(t.id) === t) return t.time;
      heap.pop();
    }
    return undefined;
  }

  private fire(heap: TimerHeap, domain: TimeDomain, upTo: number): void {
    const keys = this.keys;
    for (let t = heap.peek(); t !== undefined && t.time <= upTo; t = heap.peek()) {
      heap.pop();
      if (this.live.get(t.id) !== t) continue; // deleted
      this.live.delete(t.id);
      keys.currentKey = t.key;
      this.target?.onTimer(t.time, domain);
    }
  }

  /** Every live timer with its key group, for the task snapshot. */
  snapshot(): TimerEntry[] {
    const out: TimerEntry[] = [];
    for (const t of this.live.values()) {
      out.push({ keyGroup: this.keyGroupOf(t.key), key: t.key, domain: t.id[0] === 'e' ? 'event' : 'processing', time: t.time });
    }
    return out;
  }

  /** Adds the timers of `entries` whose key group is in `keyGroups` (those of other tasks are left out). */
  restore(entries: readonly TimerEntry[], keyGroups: KeyGroupRange): void {
    for (const e of entries) {
      if (e.keyGroup < keyGroups.start || e.keyGroup > keyGroups.end) continue;
      this.register(e.domain, e.key, e.time);
    }
  }
}
