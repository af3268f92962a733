import type { KeyedStore, KeyGroupRange, StateKey, TaskStateBackend, TimerEntry } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import { keyGroupKey } from '../state/operator-state.js';
import type { TimeDomain, TimerService, TimerTarget } from './timer-service.js';

/** 'e' event time, 'p' processing time: the first letter, as it appears in the stored keys. */
type Domain = 'e' | 'p';

/**
 * The timer index of one key group and domain: its non-empty time buckets in ascending order,
 * the number of chunks of each, the earliest registered time in each, and the registrations
 * minus deletions in each (exact once the bucket was read).
 */
interface IndexRecord {
  b: number[];
  c: number[];
  m: number[];
  k: number[];
}

/** Up to `chunkSize` operations on timers of one bucket, in order: times, keys, 1 = register / 0 = delete. */
type Chunk = [number[], StateKey[], number[]];

export interface StateTimerServiceOptions {
  /** Width of a time bucket, ms (default 1,000): a key group's timers are read and fired a bucket at a time. */
  readonly bucketMs?: number;
  /** Operations per stored chunk of a bucket (default 64). */
  readonly chunkSize?: number;
}

/** Names of the two stores in the operator's state (user state names cannot start with \u0001). */
export const TIMER_STORE_NAMES = { index: '\u0001timers:index', chunks: '\u0001timers:chunks' } as const;

const slot = (d: Domain): 0 | 1 => (d === 'e' ? 0 : 1);
const domainOf = (d: Domain): TimeDomain => (d === 'e' ? 'event' : 'processing');
const timerId = (key: StateKey, time: number): string => `${typeof key}:${String(key)}@${time}`;

/** The due timers being fired: id → still to fire (a delete from `onTimer` takes one out). */
interface FiringBatch {
  readonly domain: Domain;
  readonly pending: Set<string>;
}

/**
 * Timers kept in the operator's keyed state (after Flink's RocksDB timer service), so that with
 * a state backend that spills to disk (LevelDB) timers leave the heap with the rest of the
 * state: a window job with millions of open windows keeps millions of timers on disk.
 *
 * Per key group and domain, timers sit in time buckets of `bucketMs`: an index record (see
 * {@link IndexRecord}) and each bucket's chunks of operations, all under key-group keys
 * (`keyGroupKey`), so snapshots, restores and rescaling carry them by key group with no special
 * case. Registering and deleting append to the bucket's last chunk without reading anything
 * else (the index record and the last chunks stay in the backend's cache): a blind write, as a
 * RocksDB timer is, so a timer costs no read from disk. Duplicates and deletions are resolved
 * when the bucket is read. The heap holds only, per key group, the earliest time of its first
 * bucket and a count.
 *
 * Firing takes the key group with the earliest bucket, reads that bucket whole, puts back the
 * live timers that are not due and fires the due ones in time order. So one key's timers fire
 * in time order, and across key groups timers fire in time order up to the bucket width (not
 * exactly, as on the heap): no result depends on it, since a watermark goes on only after every
 * timer up to it fired.
 *
 * `size` counts registrations minus deletions: a timer registered twice, or the deletion of a
 * timer that is not there, is set right when its bucket is read. `nextProcessingTime` may give
 * the time of a deleted timer (the task wakes up, finds nothing due and asks again).
 */
export class StateTimerService implements TimerService {
  target: TimerTarget | undefined = undefined;
  onProcessingTimer: ((time: number) => void) | undefined = undefined;
  private watermark = -Infinity;
  private readonly index: KeyedStore<IndexRecord>;
  private readonly chunks: KeyedStore<Chunk>;
  private readonly bucketMs: number;
  private readonly chunkSize: number;
  /** Per domain, per owned key group (index - start): earliest time of its first bucket, NaN if none (a timer may be at +Infinity). */
  private readonly heads: [Float64Array, Float64Array];
  /** Per domain, per owned key group: registrations minus deletions. */
  private readonly counts: [Float64Array, Float64Array];
  private firing: FiringBatch | undefined = undefined;
  /** The earliest processing-time head (undefined: none), kept so registering need not scan every key group; null: not known. */
  private earliestProcessing: number | undefined | null = null;

  constructor(
    private readonly keys: KeyContext,
    private readonly keyGroupOf: (key: StateKey) => number,
    private readonly keyGroups: KeyGroupRange,
    state: TaskStateBackend,
    options: StateTimerServiceOptions = {},
  ) {
    this.index = state.keyed<IndexRecord>(TIMER_STORE_NAMES.index);
    this.chunks = state.keyed<Chunk>(TIMER_STORE_NAMES.chunks);
    this.bucketMs = options.bucketMs ?? 1_000;
    this.chunkSize = options.chunkSize ?? 64;
    const n = keyGroups.end - keyGroups.start + 1;
    this.heads = [new Float64Array(n).fill(Number.NaN), new Float64Array(n).fill(Number.NaN)];
    this.counts = [new Float64Array(n), new Float64Array(n)];
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  get size(): number {
    let n = 0;
    for (const counts of this.counts) for (let i = 0; i < counts.length; i++) n += Math.max(0, counts[i]);
    return n;
  }

  registerEventTimeTimer(time: number): void {
    this.register('e', this.keys.key(), time);
  }

  deleteEventTimeTimer(time: number): void {
    this.delete('e', this.keys.key(), time);
  }

  registerProcessingTimeTimer(time: number): void {
    this.register('p', this.keys.key(), time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.delete('p', this.keys.key(), time);
  }

  advanceWatermark(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark;
    this.fire('e', watermark);
  }

  fireProcessingTimers(now: number): void {
    this.fire('p', now);
    const next = this.nextProcessingTime();
    if (next !== undefined) this.onProcessingTimer?.(next);
  }

  nextProcessingTime(): number | undefined {
    if (this.earliestProcessing === null) {
      const [kg, time] = this.earliest('p');
      this.earliestProcessing = kg < 0 ? undefined : time;
    }
    return this.earliestProcessing;
  }

  /** Nothing: every timer is in keyed state, which the state backend snapshots. */
  snapshot(): TimerEntry[] {
    return [];
  }

  /**
   * Reloads the key groups' heads and counts from the (just restored) state, then adds the
   * timers of `entries` (a snapshot taken by a {@link HeapTimerService}) this task owns.
   */
  restore(entries: readonly TimerEntry[], keyGroups: KeyGroupRange): void {
    const { start, end } = this.keyGroups;
    this.earliestProcessing = null;
    for (const d of ['e', 'p'] as const) {
      for (let kg = start; kg <= end; kg++) {
        const rec = this.index.get(keyGroupKey(kg, d));
        this.heads[slot(d)][kg - start] = rec === undefined || rec.b.length === 0 ? Number.NaN : rec.m[0];
        this.counts[slot(d)][kg - start] = rec === undefined ? 0 : rec.k.reduce((a, b) => a + b, 0);
      }
    }
    for (const e of entries) {
      if (e.keyGroup < keyGroups.start || e.keyGroup > keyGroups.end) continue;
      this.register(e.domain === 'event' ? 'e' : 'p', e.key, e.time);
    }
  }

  // ---------------------------------------------------------------- registering

  private register(d: Domain, key: StateKey, time: number): void {
    if (Number.isNaN(time)) return; // never due (as on the heap)
    // Already due in the batch being fired: it fires there.
    if (this.firing?.domain === d && this.firing.pending.has(timerId(key, time))) return;
    const before = d === 'p' ? (this.nextProcessingTime() ?? Infinity) : Infinity;
    this.append(this.keyGroupOf(key), d, [time], [key], 1);
    if (d === 'p' && time < before) this.onProcessingTimer?.(time);
  }

  private delete(d: Domain, key: StateKey, time: number): void {
    const kg = this.keyGroupOf(key);
    if (this.firing?.domain === d && this.firing.pending.delete(timerId(key, time))) {
      this.counts[slot(d)][kg - this.keyGroups.start]--;
      return;
    }
    const rec = this.indexOf(kg, d);
    const bucket = this.bucketOf(time);
    if (rec.b[lowerBound(rec.b, bucket)] !== bucket) return; // no bucket for that time: no such timer
    this.append(kg, d, [time], [key], 0, rec);
  }

  /** Appends registrations (op 1) or deletions (op 0) of one bucket's timers and saves the index record. */
  private append(kg: number, d: Domain, times: number[], keys: StateKey[], op: 0 | 1, rec = this.indexOf(kg, d)): void {
    const bucket = this.bucketOf(times[0]);
    let min = Infinity;
    if (op === 1) for (const t of times) if (t < min) min = t;
    const i = lowerBound(rec.b, bucket);
    if (rec.b[i] !== bucket) {
      rec.b.splice(i, 0, bucket);
      rec.c.splice(i, 0, 0);
      rec.m.splice(i, 0, min);
      rec.k.splice(i, 0, 0);
    } else if (min < rec.m[i]) {
      rec.m[i] = min;
    }
    let chunkNo = rec.c[i] - 1;
    let chunk = chunkNo >= 0 ? this.chunks.get(this.chunkKey(kg, d, bucket, chunkNo)) : undefined;
    for (let j = 0; j < times.length; j++) {
      if (chunk === undefined || chunk[0].length >= this.chunkSize) {
        if (chunk !== undefined) this.chunks.put(this.chunkKey(kg, d, bucket, chunkNo), chunk);
        chunk = [[], [], []];
        chunkNo++;
      }
      chunk[0].push(times[j]);
      chunk[1].push(keys[j]);
      chunk[2].push(op);
    }
    this.chunks.put(this.chunkKey(kg, d, bucket, chunkNo), chunk!);
    rec.c[i] = chunkNo + 1;
    const delta = op === 1 ? times.length : -times.length;
    rec.k[i] += delta;
    this.counts[slot(d)][kg - this.keyGroups.start] += delta;
    this.index.put(keyGroupKey(kg, d), rec);
    if (i === 0) {
      // A head only falls here: the earliest processing time follows it.
      this.heads[slot(d)][kg - this.keyGroups.start] = rec.m[0];
      if (d === 'p' && this.earliestProcessing !== null) this.earliestProcessing = Math.min(this.earliestProcessing ?? Infinity, rec.m[0]);
    }
  }

  // ---------------------------------------------------------------- firing

  /** Fires the due timers of `d` up to `upTo`, a key group's earliest bucket at a time. */
  private fire(d: Domain, upTo: number): void {
    for (;;) {
      const [kg, head] = this.earliest(d);
      if (kg < 0 || head > upTo) return;
      this.fireBucket(kg, d, upTo);
    }
  }

  /**
   * Reads the first bucket of key group `kg` whole and resolves its operations (the last one on
   * a timer wins), takes it out of the state, puts back the live timers that are not due
   * (before firing, so timers registered by `onTimer` append after them), then fires the due
   * ones in time order (ties in registration order).
   */
  private fireBucket(kg: number, d: Domain, upTo: number): void {
    const rec = this.indexOf(kg, d);
    const bucket = rec.b[0];
    const live = new Map<string, number>(); // id → position of the registration that counts
    const times: number[] = [];
    const keys: StateKey[] = [];
    for (let j = 0; j < rec.c[0]; j++) {
      const ck = this.chunkKey(kg, d, bucket, j);
      const chunk = this.chunks.get(ck);
      if (chunk === undefined) continue;
      for (let x = 0; x < chunk[0].length; x++) {
        const id = timerId(chunk[1][x], chunk[0][x]);
        if (chunk[2][x] === 0) {
          live.delete(id);
        } else if (!live.has(id)) {
          live.set(id, times.length);
          times.push(chunk[0][x]);
          keys.push(chunk[1][x]);
        }
      }
      this.chunks.delete(ck);
    }
    const claimed = rec.k[0];
    rec.b.shift();
    rec.c.shift();
    rec.m.shift();
    rec.k.shift();
    const order = [...live.values()].sort((a, b) => (times[a] < times[b] ? -1 : times[a] > times[b] ? 1 : a - b));
    let due = 0;
    while (due < order.length && times[order[due]] <= upTo) due++;
    const counts = this.counts[slot(d)];
    const at = kg - this.keyGroups.start;
    counts[at] += due - claimed; // the bucket's claim is replaced by its due timers (the rest are appended again)
    if (due < order.length) {
      const rest = order.slice(due);
      this.append(
        kg,
        d,
        rest.map((i) => times[i]),
        rest.map((i) => keys[i]),
        1,
        rec,
      );
    } else if (rec.b.length === 0) {
      this.index.delete(keyGroupKey(kg, d));
    } else {
      this.index.put(keyGroupKey(kg, d), rec);
    }
    this.heads[slot(d)][at] = rec.b.length === 0 ? Number.NaN : rec.m[0];
    if (d === 'p') this.earliestProcessing = null;

    const pending = new Set<string>();
    for (let o = 0; o < due; o++) pending.add(timerId(keys[order[o]], times[order[o]]));
    const outer = this.firing;
    this.firing = { domain: d, pending };
    try {
      const domain = domainOf(d);
      for (let o = 0; o < due; o++) {
        const i = order[o];
        if (!pending.delete(timerId(keys[i], times[i]))) continue; // deleted by an earlier onTimer
        counts[at]--;
        this.keys.currentKey = keys[i];
        this.target?.onTimer(times[i], domain);
      }
    } finally {
      this.firing = outer;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The owned key group with the earliest head of `d` and that time, or [-1, NaN] if there is none. */
  private earliest(d: Domain): [number, number] {
    const heads = this.heads[slot(d)];
    let best = -1;
    let time = Number.NaN;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === h && (best < 0 || h < time)) {
        best = i;
        time = h;
      }
    }
    return best < 0 ? [-1, Number.NaN] : [this.keyGroups.start + best, time];
  }

  private bucketOf(time: number): number {
    return Math.floor(time / this.bucketMs);
  }

  private indexOf(kg: number, d: Domain): IndexRecord {
    return this.index.get(keyGroupKey(kg, d)) ?? { b: [], c: [], m: [], k: [] };
  }

  private chunkKey(kg: number, d: Domain, bucket: number, chunk: number): string {
    return keyGroupKey(kg, `${d}/${bucket}/${chunk}`);
  }
}

/** First index in ascending `a` whose value is ≥ `x`. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
