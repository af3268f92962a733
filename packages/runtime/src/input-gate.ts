import type { ChannelReceiver, Frame } from '@mobius/interface';
import { Signal } from './signal.js';

/**
 * The inputs of a task: takes frames from its channels round-robin, one frame at a time,
 * swallows end-of-stream markers (counting the channels still open), tracks the last sequence
 * number read per channel, and aligns checkpoint barriers: a channel that delivered barrier k
 * is not read again until every open channel delivered it; then the barrier is returned once.
 */
export class InputGate {
  private readonly ended: boolean[];
  private readonly blocked: boolean[];
  /** Sequence number of the last record read, per channel (-1: none yet). */
  readonly lastSeq: number[];
  private open: number;
  private next = 0;
  /** The barrier being aligned, and how many channels are blocked on it. */
  private pending: Frame | null = null;
  private blockedCount = 0;
  /** Id of the last barrier released: older or equal ones are stale. */
  private lastReleased = -1;
  private readonly readable = new Signal();

  constructor(private readonly receivers: readonly ChannelReceiver[]) {
    this.ended = receivers.map(() => false);
    this.blocked = receivers.map(() => false);
    this.lastSeq = receivers.map(() => -1);
    this.open = receivers.length;
    for (const r of receivers) r.onReadable(() => this.readable.notify());
  }

  /** True once every channel delivered its end marker. */
  get finished(): boolean {
    return this.open === 0 && this.pending === null;
  }

  /** The next data frame, or an aligned barrier frame, or undefined if none is available now. */
  poll(): Frame | undefined {
    const rs = this.receivers;
    const n = rs.length;
    for (let k = 0; k < n; k++) {
      let i = this.next + k;
      if (i >= n) i -= n;
      if (this.ended[i] || this.blocked[i]) continue;
      const frame = rs[i].poll();
      if (frame === undefined) continue;
      this.next = i + 1 === n ? 0 : i + 1;
      if (frame.kind === 'data') {
        this.lastSeq[i] = frame.seq + frame.count - 1;
        return frame;
      }
      if (frame.kind === 'end') {
        this.ended[i] = true;
        this.open--;
        if (this.pending !== null && this.aligned()) return this.release();
        return this.poll();
      }
      if (frame.kind === 'barrier') {
        const aligned = this.onBarrier(i, frame);
        if (aligned !== undefined) return aligned;
        return this.poll();
      }
      return frame;
    }
    return undefined;
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
