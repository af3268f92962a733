import type { Frame } from '@mobius/interface';
import { CreditReceiver, CreditSender } from '@mobius/plugin-kit';

/** An in-process channel: the receiver's queue, fed by reference; the session's peer is the sender itself. */
export type MemoryChannel = CreditReceiver<MemorySender>;

/**
 * The sending end of an in-process channel. A frame goes into the receiver's queue as it is (no
 * encoding), and each poll gives its credit straight back, so a receiver that stops polling
 * stops its sender.
 */
export class MemorySender extends CreditSender {
  constructor(
    private readonly target: MemoryChannel,
    capacity: number,
  ) {
    super(target.channel, capacity);
  }

  protected override transmit(frame: Frame): void {
    this.target.deliver(frame);
  }

  /** Frames already sent stay readable: the receiver owns the queue. */
  protected override onClosed(): void {
    if (this.target.session?.peer === this) this.target.detach();
  }
}
