import type { ChannelId, Frame } from '@mobius/interface';
import { CreditReceiver, type CreditReceiverHost } from './credit-receiver.js';
import { CreditSender } from './credit-sender.js';

/**
 * A channel whose two ends live in one process: the sender puts frames into the receiver's
 * queue by reference, and each poll gives its credit straight back. The memory transport is
 * this plus an endpoint registry; tests use it wherever they need a real channel.
 */
export class InProcessChannel extends CreditReceiver<InProcessSender> {
  constructor(
    channel: ChannelId,
    /** Runs once when the receiving end closes, e.g. to forget the channel. */
    private readonly onClose?: (channel: InProcessChannel) => void,
  ) {
    super(channel, IN_PROCESS_HOST);
  }

  /**
   * The sending end, made with `credits` on first use. In one process a channel has a single
   * sending end, shared by whoever opens it: a task attempt that replaces another (a restart)
   * gets the same end and the same credits, so an attempt still winding down can neither
   * fail on a closed sender nor push the queue past its credits.
   */
  connect(credits: number): InProcessSender {
    const current = this.session?.peer;
    if (current !== undefined && !current.isClosed) return current;
    const sender = this.newSender(credits);
    if (this.isClosed) sender.closeLocally();
    else this.begin(sender, 0, credits);
    return sender;
  }

  /** Makes the sender `connect` returns; a subclass may return its own kind. */
  protected newSender(credits: number): InProcessSender {
    return new InProcessSender(this, credits);
  }

  /** @internal Called by the host when the receiving end closed. */
  released(): void {
    this.onClose?.(this);
  }
}

/** The sending end of an {@link InProcessChannel}. */
export class InProcessSender extends CreditSender {
  constructor(
    readonly target: InProcessChannel,
    credits: number,
  ) {
    super(target.channel, credits);
  }

  protected override transmit(frame: Frame): void {
    this.target.deliver(frame);
  }

  /**
   * Does nothing: the sending end is shared (see `connect`), and frames already sent stay
   * readable. It closes with the receiving end.
   */
  override close(): void {}

  protected override onClosed(): void {
    if (this.target.session?.peer === this) this.target.detach();
  }
}

// One host for every in-process channel: nothing to batch, nobody to send messages to.
const IN_PROCESS_HOST: CreditReceiverHost<InProcessSender> = {
  creditDue(ch) {
    ch.session?.peer.grant(ch.takeCredit());
  },
  receiverClosed(ch, session) {
    session?.peer.closeLocally();
    if (ch instanceof InProcessChannel) ch.released();
  },
  // In-process, the listener's error is the caller's: it surfaces from `trySend` or `close`.
  listenerFailed(_ch, err) {
    throw err;
  },
};
