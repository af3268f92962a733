import type { ChannelId, ChannelOptions, ChannelReceiver, ChannelSender, Frame, Transport, TransportEvent } from '@mobius/interface';
import { MemoryTransport } from './memory-transport.js';

/**
 * A receiver fed by two transports: a channel has one sender, which is either in this process
 * (memory) or in another (network), so only one side ever carries frames; each side returns
 * its own credits.
 */
class MergedReceiver implements ChannelReceiver {
  constructor(
    readonly channel: ChannelId,
    private readonly local: ChannelReceiver,
    private readonly remote: ChannelReceiver,
  ) {}

  poll(): Frame | undefined {
    return this.local.poll() ?? this.remote.poll();
  }

  onReadable(listener: () => void): void {
    this.local.onReadable(listener);
    this.remote.onReadable(listener);
  }

  close(): void {
    this.local.close();
    this.remote.close();
  }
}

/**
 * The worker's transport: channels between two tasks of this worker go through the memory
 * transport (frames by reference, no encoding, no socket, as Flink's local channels), the
 * others through the network transport. A sender opened with `serialize`
 * (`runtime.serialize-local-channels`) makes the memory side encode and decode each frame with
 * the network codec, so both kinds of channel deliver the same types.
 */
export class LocalFirstTransport implements Transport {
  readonly kind: string;
  private readonly local: MemoryTransport;

  constructor(
    private readonly remote: Transport,
    localName: string,
  ) {
    this.kind = `${remote.kind}+local`;
    this.local = new MemoryTransport({ name: localName });
  }

  get endpoint(): string {
    return this.remote.endpoint;
  }

  async start(): Promise<void> {
    await this.remote.start();
    await this.local.start();
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    if (targetEndpoint === this.remote.endpoint) return this.local.openSender(channel, this.local.endpoint, options);
    return this.remote.openSender(channel, targetEndpoint, options);
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    return new MergedReceiver(channel, this.local.openReceiver(channel, options), this.remote.openReceiver(channel, options));
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.remote.on(event, listener);
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.remote.close();
  }
}
