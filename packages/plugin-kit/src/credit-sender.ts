import { TransportError, type ChannelId, type ChannelSender, type Frame } from '@mobius/interface';

/**
 * The sending end of a credit-based channel: everything but moving the bytes. A transport
 * extends it and implements `transmit`; the receiving end gives credits back with `grant`.
 *
 * Credits are spent before `transmit` runs, because an in-process transport may deliver, poll
 * and grant the credit back inside that very call; a `transmit` that throws gets it refunded.
 */
export abstract class CreditSender implements ChannelSender {
  private available: number;
  private ended = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly channel: ChannelId,
    /** The credits the channel was opened with: the most frames in flight. */
    readonly capacity: number,
    /** Names this run of the sender's credits, for a protocol whose credit messages carry it (0 when none does). */
    public epoch = 0,
  ) {
    this.available = capacity;
  }

  /** Hands one frame to the medium. Called with a credit already spent for it. */
  protected abstract transmit(frame: Frame): void;

  /** Runs once, when the sender closes for any reason (locally or because the receiver closed). */
  protected onClosed(): void {}

  /** Runs when a new epoch starts (see `reopen`): tell the receiver, e.g. with a new OPEN message. */
  protected announce(): void {}

  get credits(): number {
    return this.ended ? 0 : this.available;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  trySend(frame: Frame): boolean {
    if (this.ended) throw new TransportError('TRANSPORT_CLOSED', `channel ${this.channel} is closed`);
    if (this.available <= 0) return false;
    if (frame?.channel !== this.channel) {
      throw new TransportError('FRAME_MALFORMED', `frame of channel ${String(frame?.channel)} sent on channel ${this.channel}`);
    }
    this.available--;
    try {
      this.transmit(frame);
    } catch (e) {
      this.available++;
      throw e;
    }
    return true;
  }

  whenWritable(): Promise<void> {
    if (this.ended || this.available > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Closes the sending end; frames already sent stay readable on the receiving side. */
  close(): void {
    this.closeLocally();
  }

  /**
   * Returns `count` credits. Returns false (and keeps the credits at the capacity) when the
   * grant would exceed the capacity: a receiver that breaks the protocol, for the transport to report.
   */
  grant(count: number): boolean {
    if (this.ended) return true;
    const next = this.available + count;
    const valid = next <= this.capacity;
    this.available = valid ? next : this.capacity;
    this.wake();
    return valid;
  }

  /**
   * Full credits again, in a new credit epoch: after a reconnection, frames and credits in
   * flight may be lost, so both ends start over. `announce` tells the receiver before any
   * waiting writer runs.
   */
  reopen(epoch = this.epoch): void {
    if (this.ended) return;
    this.epoch = epoch;
    this.available = this.capacity;
    this.announce();
    this.wake();
  }

  /** Closes without telling the receiver (for example because the receiver closed first). */
  closeLocally(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClosed();
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
