import type { ChannelSender, Codec, Frame } from '@mobius/interface';
import { DelegatingSender } from '@mobius/plugin-kit';

/**
 * A sender that hands its receiver a decoded copy of each frame's encoding instead of the
 * frame itself (`runtime.serialize-local-channels`): the receiver gets the types a remote
 * worker would, and a record the codec refuses fails the sending task here, as on a cluster.
 */
export class SerializingSender extends DelegatingSender {
  constructor(
    inner: ChannelSender,
    private readonly codec: Codec,
  ) {
    super(inner);
  }

  trySend(frame: Frame): boolean {
    // Without credit the inner sender refuses (or reports it closed): encode only what goes out.
    if (this.inner.credits <= 0) return this.inner.trySend(frame);
    return this.inner.trySend(this.codec.decode(this.codec.encode(frame)));
  }
}
