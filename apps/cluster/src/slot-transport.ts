import type { ChannelId, ChannelOptions, ChannelReceiver, ChannelSender, Frame, Transport, TransportEvent } from '@mobius/interface';
import { MemoryTransport } from '@mobius/transport-memory';

/**
 * A receiver fed by the three transports of a task thread: a channel has one sender at a time,
 * in this thread (memory), a sibling thread (rings) or another process (network); each side
 * returns its own credits.
 */
class SlotReceiver implements ChannelReceiver {
  constructor(
    readonly channel: ChannelId,
    private readonly local: ChannelReceiver,
    private readonly sibling: ChannelReceiver,
    private readonly remote: ChannelReceiver,
  ) {}

  poll(): Frame | undefined {
    return this.local.poll() ?? this.sibling.poll() ?? this.remote.poll();
  }

  onReadable(listener: () => void): void {
    this.local.onReadable(listener);
    this.sibling.onReadable(listener);
    this.remote.onReadable(listener);
  }

  close(): void {
    this.local.close();
    this.sibling.close();
    this.remote.close();
  }
}

/**
 * The data transport of one task thread of a cluster worker. Every thread is reachable from
 * other processes at the endpoint of its own network transport (what the job master gives its
 * tasks' peers); a channel to this thread's endpoint stays in memory, one to a sibling thread's
 * network endpoint goes through the thread transport's shared rings instead of the socket, and
 * the rest goes over the network. `siblings` maps each sibling's network endpoint to its thread
 * endpoint; it is known once every thread has bound its socket, before any task runs.
 */
export class SlotTransport implements Transport {
  readonly kind: string;
  private readonly local: MemoryTransport;
  private siblings: ReadonlyMap<string, string> = new Map();
  /** Thread endpoint → network endpoint, to report a lost sibling by the endpoint tasks know. */
  private networkOf: ReadonlyMap<string, string> = new Map();

  constructor(
    private readonly network: Transport,
    private readonly threads: Transport,
    localName: string,
  ) {
    this.kind = `${network.kind}+threads+local`;
    this.local = new MemoryTransport({ name: localName });
  }

  get endpoint(): string {
    return this.network.endpoint;
  }

  /** The thread transport's endpoint (`thread://pid/index`). */
  get threadEndpoint(): string {
    return this.threads.endpoint;
  }

  async start(): Promise<void> {
    await this.network.start();
    await this.threads.start();
    await this.local.start();
  }

  /** Network endpoint → thread endpoint of every sibling thread (this one's may be included). */
  setSiblings(siblings: ReadonlyMap<string, string>): void {
    this.siblings = siblings;
    this.networkOf = new Map([...siblings].map(([net, thread]) => [thread, net]));
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    if (targetEndpoint === this.network.endpoint) return this.local.openSender(channel, this.local.endpoint, options);
    const sibling = this.siblings.get(targetEndpoint);
    if (sibling !== undefined) return this.threads.openSender(channel, sibling, options);
    return this.network.openSender(channel, targetEndpoint, options);
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    return new SlotReceiver(channel, this.local.openReceiver(channel, options), this.threads.openReceiver(channel, options), this.network.openReceiver(channel, options));
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.network.on(event, listener);
    this.threads.on(event, (peer) => listener(this.networkOf.get(peer) ?? peer));
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.threads.close();
    await this.network.close();
  }
}
