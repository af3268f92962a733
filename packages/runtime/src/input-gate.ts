import { MobiusError, isIdleMarker, longestDeterminants, makeFrame, type ChannelReceiver, type Determinant, type Frame } from '@mobius/interface';
import { DeterminantCopy } from './failover/determinant-log.js';
import { Signal } from './signal.js';

/** Options of an {@link InputGate}. */
export interface InputGateOptions {
  /** Keep copies of the upstream tasks' determinant logs, at most this many entries per channel. */
  readonly determinantEntries?: number;
  /** Names the gate's task in errors. */
  readonly taskName?: string;
}

/**
 * The inputs of a task: takes frames from its channels round-robin, one frame at a time,
 * swallows end-of-stream markers (counting the channels still open), and aligns checkpoint
 * barriers: a channel that delivered barrier k is not read again until every open channel
 * delivered it; then the barrier is returned once.
 *
 * It de-duplicates by sequence number: each channel remembers the last record read, and a
 * replaying or restarted upstream's records at or below it are dropped; a gap (a record
 * missing) is an error. It keeps copies of the upstream tasks' determinant logs that arrive
 * with the frames, and, for a restarted task replaying its logged input order, reads a given
 * number of records from a given channel ({@link pollFrom}).
 */
export class InputGate {
  private readonly ended: boolean[];
  private readonly blocked: boolean[];
  /** Channels re-opened after they had ended: everything arriving on them is a duplicate. */
  private readonly draining: boolean[];
  /** Channels of an upstream task being recovered: not read until {@link replaceReceiver}. */
  private readonly held: boolean[];
  /** Sequence number of the last record read, per channel (-1: none yet). */
  readonly lastSeq: number[];
  /** Records of a frame split by {@link pollFrom}, read before the channel's next frame. */
  private readonly leftover: (Frame | undefined)[];
  /** Copies of each upstream task's determinant log (when enabled). */
  readonly determinants: DeterminantCopy[] | undefined;
  /** Channel of the frame poll() returned last. */
  lastIndex = -1;
  private open: number;
  private next = 0;
  /** The barrier being aligned, and how many channels are blocked on it. */
  private pending: Frame | null = null;
  private blockedCount = 0;
  /** Id of the last barrier released or aborted: older or equal ones are stale. */
  private lastReleased = -1;
  private readonly readable = new Signal();
  private readonly receivers: ChannelReceiver[];
  private readonly taskName: string;
  /** The last watermark of each channel, and whether it is idle (left out of the minimum). */
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  /** The task's input watermark: the minimum over open, non-idle channels; never goes back. */
  private current = -Infinity;
  /** The input watermark rose and the task was not told yet. */
  private watermarkDue = false;
  private readonly determinantEntries: number | undefined;

  constructor(receivers: readonly ChannelReceiver[], options: InputGateOptions = {}) {
    this.receivers = [...receivers];
    this.ended = receivers.map(() => false);
    this.blocked = receivers.map(() => false);
    this.draining = receivers.map(() => false);
    this.held = receivers.map(() => false);
    this.lastSeq = receivers.map(() => -1);
    this.leftover = receivers.map(() => undefined);
    this.watermarks = receivers.map(() => -Infinity);
    this.idle = receivers.map(() => false);
    this.determinantEntries = options.determinantEntries;
    this.open = receivers.length;
    this.taskName = options.taskName ?? 'task';
    const entries = options.determinantEntries;
    this.determinants = entries === undefined ? undefined : receivers.map(() => new DeterminantCopy(entries));
    receivers.forEach((r, i) => this.listen(r, i));
  }

  private listen(r: ChannelReceiver, i: number): void {
    r.onReadable(() => {
      if (this.receivers[i] !== r) return;
      if (this.draining[i]) this.drain(i);
      else this.readable.notify();
    });
  }

  /** True once every channel delivered its end marker. */
  get finished(): boolean {
    return this.open === 0 && this.pending === null;
  }

  /** Barriers of checkpoints up to `checkpointId` are stale (aborted, or before a restore). */
  skipCheckpointsThrough(checkpointId: number): void {
    if (checkpointId <= this.lastReleased) return;
    this.lastReleased = checkpointId;
    if (this.pending !== null && this.pending.barrier!.checkpointId <= checkpointId) {
      this.unblockAll();
      this.readable.notify();
    }
  }

  /** The task's input watermark (-Infinity: none yet). */
  get watermark(): number {
    return this.current;
  }

  /** After a restore: the input watermark of the snapshot (the channels' own start over). */
  restoreWatermark(watermark: number): void {
    if (watermark > this.current) this.current = watermark;
  }

  /**
   * The next data frame, an aligned barrier frame, a watermark frame (the input watermark rose:
   * `frame.watermark` is the new minimum), or undefined if none is available now.
   */
  poll(): Frame | undefined {
    if (this.watermarkDue) return this.takeWatermark();
    const rs = this.receivers;
    const n = rs.length;
    for (let k = 0; k < n; k++) {
      let i = this.next + k;
      if (i >= n) i -= n;
      if (this.ended[i] || this.blocked[i] || this.held[i]) continue;
      const left = this.leftover[i];
      if (left !== undefined) {
        this.leftover[i] = undefined;
        this.next = i + 1 === n ? 0 : i + 1;
        return this.took(i, left);
      }
      for (;;) {
        const raw = rs[i].poll();
        if (raw === undefined) break;
        const frame = this.accept(i, raw);
        if (frame === undefined) {
          // A watermark is handed over before anything read after it on its channel.
          if (this.watermarkDue) {
            this.next = i + 1 === n ? 0 : i + 1;
            return this.takeWatermark();
          }
          if (this.ended[i] || this.blocked[i]) break;
          continue;
        }
        this.next = i + 1 === n ? 0 : i + 1;
        return frame;
      }
    }
    return undefined;
  }

  /**
   * Replay of a logged input order: the next data frame of channel `i` with at most `max`
   * records (a bigger frame is split, the rest read next), or a barrier of a new checkpoint
   * (which the task must decline: see below), or undefined if channel `i` has nothing now.
   */
  pollFrom(i: number, max: number): Frame | undefined {
    if (this.held[i]) return undefined;
    const left = this.leftover[i];
    if (left !== undefined) {
      this.leftover[i] = undefined;
      return this.took(i, this.split(i, left, max));
    }
    for (;;) {
      if (this.ended[i]) throw new MobiusError('DETERMINANTS_DIVERGED', `task ${this.taskName}: input ${i} ended before the records its determinant log names were replayed`);
      if (this.blocked[i]) {
        throw new MobiusError('DETERMINANTS_DIVERGED', `task ${this.taskName}: input ${i} delivered a checkpoint barrier before the records its determinant log names`);
      }
      const raw = this.receivers[i].poll();
      if (raw === undefined) return undefined;
      if (raw.kind === 'barrier') {
        // A new checkpoint's barrier while the logged order is replayed: the task cannot align
        // it without breaking that order. It is returned (the task declines the checkpoint) and
        // every barrier of it is stale from now on.
        if (raw.determinants !== null) this.determinants?.[i].receive(raw.determinants);
        this.determinants?.[i].mark(raw.barrier!.checkpointId);
        if (raw.barrier!.checkpointId <= this.lastReleased) continue;
        this.skipCheckpointsThrough(raw.barrier!.checkpointId);
        return raw;
      }
      const frame = this.accept(i, raw);
      if (frame === undefined) continue;
      if (frame.kind !== 'data') return frame;
      // accept() counted the whole frame as read: give back what is split off.
      const part = this.split(i, frame, max);
      if (part !== frame) this.lastSeq[i] = part.seq + part.count - 1;
      return part;
    }
  }

  private split(i: number, frame: Frame, max: number): Frame {
    if (frame.count <= max) return frame;
    const records = frame.records!;
    const ts = frame.timestamps;
    this.leftover[i] = makeFrame(frame.channel, 'data', frame.seq + max, records.slice(max), null, null, null, ts === null ? null : ts.slice(max));
    return makeFrame(frame.channel, 'data', frame.seq, records.slice(0, max), null, null, null, ts === null ? null : ts.slice(0, max));
  }

  private took(i: number, frame: Frame): Frame {
    this.lastIndex = i;
    this.lastSeq[i] = frame.seq + frame.count - 1;
    return frame;
  }

  /**
   * A frame read from channel `i`: the data to process (de-duplicated), an aligned barrier, or
   * undefined (a duplicate, an end marker, a barrier still aligning or stale).
   */
  private accept(i: number, frame: Frame): Frame | undefined {
    if (frame.determinants !== null) this.determinants?.[i].receive(frame.determinants);
    if (frame.kind === 'data') {
      const last = this.lastSeq[i];
      if (frame.seq > last + 1) {
        throw new MobiusError(
          'CHANNEL_GAP',
          `task ${this.taskName}: input channel ${frame.channel} skipped records ${last + 1}..${frame.seq - 1} (its upstream could not replay them)`,
        );
      }
      if (frame.seq <= last) {
        const skip = last - frame.seq + 1;
        if (skip >= frame.count) return undefined; // all seen before: a replayed duplicate
        frame = makeFrame(frame.channel, 'data', last + 1, frame.records!.slice(skip), null, null, null, frame.timestamps === null ? null : frame.timestamps.slice(skip));
      }
      return this.took(i, frame);
    }
    if (frame.kind === 'end') {
      this.ended[i] = true;
      this.open--;
      this.updateWatermark();
      if (this.pending !== null && this.aligned()) return this.release();
      return undefined;
    }
    if (frame.kind === 'barrier') {
      this.determinants?.[i].mark(frame.barrier!.checkpointId);
      return this.onBarrier(i, frame);
    }
    if (frame.kind === 'watermark') {
      if (isIdleMarker(frame)) {
        this.idle[i] = true;
      } else {
        this.idle[i] = false;
        if (frame.watermark! > this.watermarks[i]) this.watermarks[i] = frame.watermark!;
      }
      this.updateWatermark();
      return undefined;
    }
    return frame;
  }

  /** The minimum over open, non-idle channels; if it rose, the task is told at the next poll. */
  private updateWatermark(): void {
    let min = Infinity;
    let any = false;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.ended[i] || this.idle[i]) continue;
      any = true;
      if (this.watermarks[i] < min) min = this.watermarks[i];
    }
    // Every channel idle: nothing to go by, the watermark stays (as in Flink).
    if (!any || min <= this.current) return;
    this.current = min;
    this.watermarkDue = true;
  }

  private takeWatermark(): Frame {
    this.watermarkDue = false;
    return makeFrame('', 'watermark', 0, null, null, this.current);
  }

  private onBarrier(channel: number, frame: Frame): Frame | undefined {
    const id = frame.barrier!.checkpointId;
    if (id <= this.lastReleased) return undefined; // a barrier of a checkpoint already aligned or superseded
    if (this.pending !== null) {
      const pendingId = this.pending.barrier!.checkpointId;
      if (id < pendingId) return undefined; // a barrier of a checkpoint already superseded
      if (id > pendingId) this.unblockAll(); // the older checkpoint was abandoned: align the newer one
    }
    if (this.pending === null) this.pending = frame;
    this.blocked[channel] = true;
    this.blockedCount++;
    return this.aligned() ? this.release() : undefined;
  }

  /** Every channel either delivered the pending barrier or ended. */
  private aligned(): boolean {
    return this.blockedCount + this.endedUnblocked() === this.receivers.length;
  }

  private endedUnblocked(): number {
    let n = 0;
    for (let i = 0; i < this.ended.length; i++) if (this.ended[i] && !this.blocked[i]) n++;
    return n;
  }

  private release(): Frame {
    const frame = this.pending!;
    this.lastReleased = frame.barrier!.checkpointId;
    this.unblockAll();
    return frame;
  }

  private unblockAll(): void {
    this.pending = null;
    this.blockedCount = 0;
    this.blocked.fill(false);
  }

  /**
   * Channel `i`'s upstream task restarted: read from `receiver` instead (the old one is closed,
   * with what it still held: the upstream replays it). On a channel that had ended, everything
   * that arrives is a duplicate and is dropped as it comes.
   */
  replaceReceiver(i: number, receiver: ChannelReceiver): void {
    const old = this.receivers[i];
    this.receivers[i] = receiver;
    this.leftover[i] = undefined;
    this.held[i] = false;
    old.close();
    if (this.ended[i]) this.draining[i] = true;
    this.listen(receiver, i);
    if (this.draining[i]) this.drain(i);
    else this.readable.notify();
  }

  private drain(i: number): void {
    const r = this.receivers[i];
    for (let f = r.poll(); f !== undefined; f = r.poll()) if (f.determinants !== null) this.determinants?.[i].receive(f.determinants);
  }

  /** Checkpoint `checkpointId` completed: trims the determinant copies. */
  checkpointComplete(checkpointId: number): void {
    if (this.determinants !== undefined) for (const d of this.determinants) d.trim(checkpointId);
  }

  /**
   * Channels `indexes` are not read until they are replaced ({@link replaceReceiver}): their
   * upstream task is being recovered, and what its dead attempt left in them must not be read
   * after its determinants were handed over (the new attempt regenerates it, consistent with them).
   */
  hold(indexes: readonly number[]): void {
    for (const i of indexes) this.held[i] = true;
  }

  /** The determinant entries held of the upstream task of channels `indexes` (the longest copy). */
  determinantsOf(indexes: readonly number[]): readonly Determinant[] {
    return longestDeterminants(indexes.map((i) => this.determinants?.[i].list() ?? []));
  }

  /**
   * Reads channel `receiver` too from now on (a live rescale adds it at a barrier): it is the
   * last input index. Returns its index.
   */
  addChannel(receiver: ChannelReceiver): number {
    const i = this.receivers.length;
    this.receivers.push(receiver);
    this.ended.push(false);
    this.blocked.push(false);
    this.draining.push(false);
    this.held.push(false);
    this.lastSeq.push(-1);
    this.leftover.push(undefined);
    this.watermarks.push(-Infinity);
    this.idle.push(false);
    if (this.determinants !== undefined) this.determinants.push(new DeterminantCopy(this.determinantEntries!));
    this.open++;
    this.listen(receiver, i);
    this.readable.notify();
    return i;
  }

  /**
   * Stops reading channel `i` (a live rescale removes it at a barrier): it counts as ended, and
   * its index stays taken so the input indexes of the determinant log keep their meaning.
   */
  removeChannel(i: number): void {
    if (!this.ended[i]) {
      this.ended[i] = true;
      this.open--;
    }
    this.leftover[i] = undefined;
    this.receivers[i].close();
    this.updateWatermark();
    this.readable.notify();
  }

  whenReadable(): Promise<void> {
    return this.readable.wait();
  }

  /** Wakes a task waiting for input (cancel). */
  wake(): void {
    this.readable.notify();
  }

  close(): void {
    for (const r of this.receivers) r.close();
  }
}
