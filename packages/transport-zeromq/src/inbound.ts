import type { ChannelId } from '@mobius/interface';
import { CreditReceiver, type CreditReceiverHost } from '@mobius/plugin-kit';

/**
 * The receiving side of one channel in a ZeroMQ transport: the kit's credit receiver, whose
 * session peer is the routing id of the sending DEALER. It exists from the first OPEN or
 * `openReceiver`, whichever comes first.
 */
export class InboundChannel extends CreditReceiver<Buffer> {
  /** The channel id as a message part, made once for every CREDIT and CLOSE of the channel. */
  readonly idPart: Buffer;

  constructor(channel: ChannelId, host: CreditReceiverHost<Buffer>) {
    super(channel, host);
    this.idPart = Buffer.from(channel, 'utf8');
  }
}
