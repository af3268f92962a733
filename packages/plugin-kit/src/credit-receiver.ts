import type { ChannelId, ChannelReceiver, Frame, Logger } from '@mobius/interface';
import { FrameQueue } from './frame-queue.js';

/**
 * One run of a sender feeding a receiver: who it is (`peer`, whatever the transport needs to
 * answer it), the credit epoch it announced, and its credit accounting.
 */
export interface CreditSession<P> {
  readonly peer: P;
  /** Names this run of the sender's credits; credit and close messages carry it. */
  readonly epoch: number;
  /** Credits the sender announced: the most frames of this session queued at once. */
  readonly capacity: number;
  /** Frames of this session queued and not yet polled. */
  outstanding: number;
  /** Frames polled whose credit is not yet back at the sender. */
  pendingCredit: number;
}

/** What a {@link CreditReceiver} needs from its transport. */
export interface CreditReceiverHost<P> {
  /** Polled frames owe credits to the session's sender: send them now or batch them (see `CreditReturns`). */
  creditDue(receiver: CreditReceiver<P>): void;
  /** The receiver closed; `session` is the one that fed it, whose sender should be told. */
  receiverClosed(receiver: CreditReceiver<P>, session: CreditSession<P> | undefined): void;
  /** The readable listener threw. */
  listenerFailed(receiver: CreditReceiver<P>, err: unknown): void;
}

/**
 * The receiving end of a credit-based channel, and the channel's queue. It may exist before the
 * receiver is opened (a sender was faster): frames are held here, bounded by the sender's credits.
 *
 * A new session (a sender opened again, or re-opened after a reconnection) starts with full
 * credits, so the frames still queued from the earlier one become "stale": they stay readable in
 * order but return no credit, since nobody waits for it.
 */
export class CreditReceiver<P = unknown> implements ChannelReceiver {
  session: CreditSession<P> | undefined;
  /** Credits the receiving end was opened with; undefined while only a sender knows the channel. */
  receiverCredits: number | undefined;
  private readonly queue = new FrameQueue<Frame>();
  /** Frames at the head of the queue from earlier sessions. */
  private stale = 0;
  private listener: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly channel: ChannelId,
    private readonly host: CreditReceiverHost<P>,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Marks the receiving end open with its credits. */
  open(credits: number): this {
    this.receiverCredits = credits;
    return this;
  }

  /** True when both ends are known and announced different credits (the sender's bound the queue). */
  get creditsDisagree(): boolean {
    return this.session !== undefined && this.receiverCredits !== undefined && this.session.capacity !== this.receiverCredits;
  }

  /** Logs a warning when the two ends disagree on the credits: a configuration mistake, not an error. */
  warnIfCreditsDisagree(logger: Logger): void {
    if (!this.creditsDisagree) return;
    logger.warn(
      { channel: this.channel, receiverCredits: this.receiverCredits, senderCredits: this.session?.capacity },
      'sender and receiver disagree on the credits of a channel; the sender’s value bounds the queue',
    );
  }

  /** Starts a session for a sender; frames of the previous session become stale. */
  begin(peer: P, epoch: number, capacity: number): CreditSession<P> {
    this.detach();
    const session: CreditSession<P> = { peer, epoch, capacity, outstanding: 0, pendingCredit: 0 };
    this.session = session;
    return session;
  }

  /** Ends the current session (its sender went away): its queued frames stay readable, their credits go nowhere. */
  detach(): CreditSession<P> | undefined {
    const session = this.session;
    if (session === undefined) return undefined;
    this.stale += session.outstanding;
    this.session = undefined;
    return session;
  }

  /** True when the current session has no credit left for another frame: a sender over its credits. */
  get full(): boolean {
    const s = this.session;
    return s !== undefined && s.outstanding >= s.capacity;
  }

  /** Queues a frame of the current session (without one, a stale frame: no credit to return) and wakes the reader if the queue was empty. */
  deliver(frame: Frame): void {
    if (this.ended) return;
    if (this.session !== undefined) this.session.outstanding++;
    else this.stale++;
    const wasEmpty = this.queue.length === 0;
    this.queue.push(frame);
    if (wasEmpty) this.notify();
  }

  /** Gives back the credit of a frame the sender spent that never reached the queue (it could not be decoded). */
  refund(): void {
    if (this.session === undefined) return;
    this.session.pendingCredit++;
    this.host.creditDue(this);
  }

  /** The credits due to the session's sender, now counted as returned. */
  takeCredit(): number {
    const s = this.session;
    if (s === undefined) return 0;
    const count = s.pendingCredit;
    s.pendingCredit = 0;
    return count;
  }

  poll(): Frame | undefined {
    const frame = this.queue.shift();
    if (frame === undefined) return undefined;
    if (this.stale > 0) {
      this.stale--;
    } else if (this.session !== undefined) {
      this.session.outstanding--;
      this.session.pendingCredit++;
      this.host.creditDue(this);
    }
    return frame;
  }

  onReadable(listener: () => void): void {
    this.listener = listener;
    if (this.queue.length > 0 || this.ended) this.notify();
  }

  /** Drops the queue, tells the host (which tells the sender) and wakes the reader. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    const session = this.session;
    this.session = undefined;
    this.receiverCredits = undefined;
    this.queue.clear();
    this.stale = 0;
    this.host.receiverClosed(this, session);
    this.notify();
  }

  private notify(): void {
    const listener = this.listener;
    if (listener === undefined) return;
    try {
      listener();
    } catch (e) {
      this.host.listenerFailed(this, e);
    }
  }
}
