import type { ChannelId, Codec, Frame } from '@mobius/interface';
import { CreditSender } from '@mobius/plugin-kit';
import type { SharedFrameRing } from './shared-frame-ring.js';

/**
 * The sending end of a channel to another thread: encodes each frame into the channel's ring.
 *
 * Two bounds hold at once. Credits, as in every transport: at most `capacity` frames sent and
 * not yet polled. Bytes: the ring. A frame that does not fit the free room waits here, encoded
 * ("pending"), and the sender reports no credit until it is in the ring, so at most one frame
 * per channel lives outside the ring. A frame larger than the whole ring goes in pieces, each
 * as large as the room allows, and the receiver joins them.
 */
export class ThreadSender extends CreditSender {
  private pending: Uint8Array | undefined;
  private pendingAt = 0;
  private seenRead = 0;
  /** The consumer's position when this sender last looked: what it waits to see change. */
  private seenTail = 0;
  private watching = false;
  private writers: (() => void)[] = [];

  constructor(
    channel: ChannelId,
    credits: number,
    readonly ring: SharedFrameRing,
    /** The endpoint of the receiving thread. */
    readonly peer: string,
    private readonly codec: Codec,
    private readonly closed: (sender: ThreadSender) => void,
  ) {
    super(channel, credits);
  }

  override get credits(): number {
    this.refresh();
    return this.pending === undefined ? super.credits : 0;
  }

  /** Frames sent and not yet polled, the pending one included (for tests and metrics). */
  get unreadFrames(): number {
    this.refresh();
    return this.capacity - super.credits;
  }

  /** Bytes sent and not yet polled: the ring's used bytes plus what of a pending frame is not in it. */
  get unreadBytes(): number {
    return this.ring.usedBytes + (this.pending === undefined ? 0 : this.pending.length - this.pendingAt);
  }

  override trySend(frame: Frame): boolean {
    this.refresh();
    if (this.pending !== undefined && !this.isClosed) return false;
    return super.trySend(frame);
  }

  override whenWritable(): Promise<void> {
    this.refresh();
    if (this.writable()) return Promise.resolve();
    this.watch();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  protected override transmit(frame: Frame): void {
    // A frame the codec refuses throws here, before anything is written: the base refunds the credit.
    this.pending = this.codec.encode(frame);
    this.pendingAt = 0;
    this.flush();
    if (this.pending !== undefined) this.watch();
  }

  /** The receiving thread is gone (or this transport closes): drop what is not in the ring and close. */
  abandon(): void {
    const wasClosed = this.isClosed;
    this.pending = undefined;
    this.closeLocally();
    if (wasClosed && this.watching) this.ring.wakeAll();
  }

  protected override onClosed(): void {
    this.wakeWaiters();
    // Releases this side's wait on the ring, unless a pending frame still needs it.
    if (this.pending === undefined && this.watching) this.ring.wakeAll();
    this.closed(this);
  }

  /** Takes back the credits of frames the receiver polled, and moves a pending frame on. */
  private refresh(): void {
    // Sampled first: the consumer counts a frame read before it moves TAIL.
    this.seenTail = this.ring.consumed;
    if (this.ring.receiverClosed) {
      if (!this.isClosed || this.pending !== undefined) this.abandon();
      return;
    }
    if (!this.isClosed) {
      const read = this.ring.framesRead;
      if (read !== this.seenRead) {
        const delta = (read - this.seenRead) | 0;
        this.seenRead = read;
        this.grant(delta);
      }
    }
    // A frame accepted before close() still goes out: its trySend returned true.
    if (this.pending !== undefined) this.flush();
  }

  private flush(): void {
    const bytes = this.pending!;
    const ring = this.ring;
    let at = this.pendingAt;
    for (;;) {
      const rest = bytes.length - at;
      if (ring.fits(rest)) {
        ring.write(bytes, at, bytes.length, false);
        this.pending = undefined;
        this.pendingAt = 0;
        return;
      }
      // A frame that fits the ring waits for room to go whole; only a larger one is cut.
      if (rest <= ring.maxPayload) break;
      const piece = ring.pieceRoom();
      if (piece === 0) break;
      ring.write(bytes, at, at + piece, true);
      at += piece;
    }
    this.pendingAt = at;
  }

  /** Waits for the receiver to read, while there is a pending frame or a waiting writer. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.ring.whenConsumed(this.seenTail, this.consumed);
  }

  // Bound once, so waiting allocates no closure.
  private readonly consumed = (): void => {
    this.watching = false;
    this.refresh();
    const writable = this.writable();
    if (writable) this.wakeWaiters();
    if (this.pending !== undefined || (!writable && this.writers.length > 0)) this.watch();
  };

  private writable(): boolean {
    return this.isClosed || (this.pending === undefined && super.credits > 0);
  }

  private wakeWaiters(): void {
    if (this.writers.length === 0) return;
    const writers = this.writers;
    this.writers = [];
    for (const w of writers) w();
  }
}
