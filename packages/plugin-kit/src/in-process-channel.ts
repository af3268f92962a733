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
   * Opens the sending end with `credits`. A channel has one live sender, as over a network:
   * opening another closes the earlier one, whose queued frames stay readable without credit.
   */
  connect(credits: number): InProcessSender {
    const previous = this.session?.peer;
    const sender = this.newSender(credits);
    if (this.isClosed) {
      sender.closeLocally();
      return sender;
    }
    this.begin(sender, 0, credits);
    if (previous !== sender) previous?.closeLocally();
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

  /** Frames already sent stay readable: the receiver owns the queue. */
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
