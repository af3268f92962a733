import type { ChannelId, ChannelSender, Frame } from '@mobius/interface';

/**
 * A sender that wraps another and changes only `trySend` (the memory transport's serializing
 * sender, the runtime's operator-naming sender): credits, waiting and closing stay the inner one's.
 */
export abstract class DelegatingSender implements ChannelSender {
  constructor(protected readonly inner: ChannelSender) {}

  get channel(): ChannelId {
    return this.inner.channel;
  }

  get credits(): number {
    return this.inner.credits;
  }

  abstract trySend(frame: Frame): boolean;

  whenWritable(): Promise<void> {
    return this.inner.whenWritable();
  }

  close(): void {
    this.inner.close();
  }
}
