import { MobiusError, type Determinant } from '@mobius/interface';

/**
 * A task's own determinant log: the order in which it took records from its inputs and the
 * values `ctx.now()` / `ctx.random()` returned. Entries go out ahead of the output that depends
 * on them (attached to the next frame of every output channel); once every channel sent an
 * entry, the task drops it: the downstream tasks hold the copies.
 *
 * A restarted task is given the entries logged after its checkpoint and replays them: `order`
 * entries say which input to read next and how much, `time`/`random` entries are returned by
 * `now()`/`random()` instead of fresh values. Replayed entries are logged again under the same
 * positions, so downstream copies stay one log.
 */
export class DeterminantLog {
  private entries: Determinant[] = [];
  /** Position of entries[0]. */
  private base = 0;
  /** Position the next entry gets. */
  next = 0;
  private replay: readonly Determinant[] = [];
  private replayAt = 0;
  /** Records left of the `order` entry being replayed. */
  private orderLeft = 0;
  private orderInput = -1;

  constructor(private readonly taskName: string) {}

  /** Continues the log after a restore: the checkpoint's last position, and what to replay. */
  restore(lastPosition: number, replay: readonly Determinant[] | undefined): void {
    this.next = lastPosition + 1;
    this.base = this.next;
    this.entries = [];
    const after = (replay ?? []).filter((d) => d.n > lastPosition).sort((a, b) => a.n - b.n);
    for (let i = 0; i < after.length; i++) {
      if (after[i].n !== this.next + i) {
        throw new MobiusError(
          'DETERMINANTS_INCOMPLETE',
          `task ${this.taskName}: its determinant log has a gap (expected entry ${this.next + i}, got ${after[i].n}): it cannot replay its inputs in the logged order`,
        );
      }
    }
    this.replay = after;
    this.replayAt = 0;
  }

  /** True while logged choices remain to be replayed. */
  get replaying(): boolean {
    return this.orderLeft > 0 || this.replayAt < this.replay.length;
  }

  /**
   * During replay: the input the next records must come from and how many (undefined when the
   * next logged entry is not an input choice, or replay is over).
   */
  nextOrder(): { input: number; count: number } | undefined {
    if (this.orderLeft > 0) return { input: this.orderInput, count: this.orderLeft };
    const d = this.replay[this.replayAt];
    if (d === undefined || d.kind !== 'order') return undefined;
    return { input: d.input, count: d.count };
  }

  /**
   * During replay: the next logged entry if it is a watermark rise or a firing of processing-time
   * timers (the task applies it at this point, then calls {@link replayed}); else undefined.
   */
  nextEvent(): Determinant | undefined {
    if (this.orderLeft > 0) return undefined;
    const d = this.replay[this.replayAt];
    return d !== undefined && (d.kind === 'watermark' || d.kind === 'timers') ? d : undefined;
  }

  /** The entry {@link nextEvent} returned was applied: logged again at its position. */
  replayed(d: Determinant): void {
    this.replayAt++;
    this.append(d.kind, 0, 0, d.value);
  }

  /** The input watermark rose to `watermark` here (tasks that log their input order). */
  watermark(watermark: number): void {
    this.append('watermark', 0, 0, watermark);
  }

  /** Processing-time timers fired here with the clock at `now` (tasks that log their input order). */
  timers(now: number): void {
    this.append('timers', 0, 0, now);
  }

  /** The error for a replay whose next logged entry is not an input choice the task can make. */
  stuck(): MobiusError {
    const d = this.replay[this.replayAt];
    return this.divergence(`finished processing where the log still has ${d === undefined ? 'nothing' : describe(d)}`);
  }

  /** Records `count` records taken from `input` (replayed or free). */
  order(input: number, count: number): void {
    if (this.orderLeft > 0) {
      // Continuing a replayed entry (its records came in several frames): already logged.
      if (input !== this.orderInput || count > this.orderLeft) throw this.divergence(`took ${count} from input ${input}, logged ${this.orderLeft} from input ${this.orderInput}`);
      this.orderLeft -= count;
      return;
    }
    const d = this.replay[this.replayAt];
    if (d !== undefined) {
      if (d.kind !== 'order' || d.input !== input || count > d.count) throw this.divergence(`took ${count} records from input ${input} where the log has ${describe(d)}`);
      this.replayAt++;
      this.orderLeft = d.count - count;
      this.orderInput = input;
      this.append('order', input, d.count, 0);
      return;
    }
    this.append('order', input, count, 0);
  }

  now(): number {
    return this.value('time', Date.now);
  }

  random(): number {
    return this.value('random', Math.random);
  }

  /**
   * Values are logged only while the task processes records (not in open() or close(): a
   * restarted task opens again, and those calls must not shift the log).
   */
  active = false;

  private value(kind: 'time' | 'random', fresh: () => number): number {
    if (!this.active) return fresh();
    const d = this.replay[this.replayAt];
    if (d !== undefined) {
      if (d.kind !== kind) throw this.divergence(`asked for a ${kind} value where the log has ${describe(d)}`);
      this.replayAt++;
      this.append(kind, 0, 0, d.value);
      return d.value;
    }
    const v = fresh();
    this.append(kind, 0, 0, v);
    return v;
  }

  private append(kind: Determinant['kind'], input: number, count: number, value: number): void {
    this.entries.push({ n: this.next++, kind, input, count, value });
  }

  private divergence(what: string): MobiusError {
    return new MobiusError('DETERMINANTS_DIVERGED', `task ${this.taskName}: replay diverged from its determinant log: it ${what}`);
  }

  /** Entries from position `from` on (for an output channel whose cursor is at `from`), or null. */
  since(from: number): Determinant[] | null {
    if (from >= this.next) return null;
    return this.entries.slice(Math.max(0, from - this.base));
  }

  /** Drops entries before position `before` (every channel has sent them). */
  dropBefore(before: number): void {
    const k = Math.min(before - this.base, this.entries.length);
    if (k <= 0) return;
    this.entries = this.entries.slice(k);
    this.base += k;
  }

  /** Entries kept (not yet sent on every channel). */
  get length(): number {
    return this.entries.length;
  }
}

function describe(d: Determinant): string {
  if (d.kind === 'order') return `${d.count} from input ${d.input}`;
  if (d.kind === 'watermark') return `the watermark ${d.value}`;
  if (d.kind === 'timers') return `timers fired at ${d.value}`;
  return `a ${d.kind} value`;
}

/**
 * The copy a downstream task keeps of one upstream task's determinant log, from what arrived
 * on one input channel: entries since the last completed checkpoint (trimmed at the barrier
 * position of each completed checkpoint), bounded by `maxEntries` (beyond it the oldest are
 * dropped, and the copy is marked incomplete).
 */
export class DeterminantCopy {
  private entries: Determinant[] = [];
  private last = -1;
  private readonly marks = new Map<number, number>();
  /** Position after the last dropped entry; the copy covers nothing before it. */
  droppedThrough = -1;

  constructor(private readonly maxEntries: number) {}

  receive(entries: readonly Determinant[]): void {
    for (let i = 0; i < entries.length; i++) {
      const d = entries[i];
      if (d.n <= this.last) continue;
      this.entries.push(d);
      this.last = d.n;
    }
    if (this.entries.length > this.maxEntries) {
      const k = this.entries.length - this.maxEntries;
      this.droppedThrough = this.entries[k - 1].n;
      this.entries = this.entries.slice(k);
    }
  }

  /** The upstream task's barrier `checkpointId` arrived: its log position at the barrier. */
  mark(checkpointId: number): void {
    if (!this.marks.has(checkpointId)) this.marks.set(checkpointId, this.last);
  }

  /** Checkpoint `checkpointId` completed: entries up to its barrier position are not needed. */
  trim(checkpointId: number): void {
    const at = this.marks.get(checkpointId);
    if (at === undefined) return;
    for (const id of [...this.marks.keys()]) if (id <= checkpointId) this.marks.delete(id);
    let k = 0;
    while (k < this.entries.length && this.entries[k].n <= at) k++;
    if (k > 0) this.entries = this.entries.slice(k);
  }

  list(): readonly Determinant[] {
    return this.entries;
  }
}
