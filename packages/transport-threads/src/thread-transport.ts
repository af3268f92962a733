import {
  TransportError,
  silentLogger,
  type ChannelId,
  type ChannelOptions,
  type ChannelReceiver,
  type ChannelSender,
  type Codec,
  type Logger,
  type Transport,
  type TransportEvent,
} from '@mobius/interface';
import { TransportEvents, channelCredits } from '@mobius/plugin-kit';
import { ColumnFrameCodec } from './column-frame-codec.js';
import type { FromHub, RingOffer, ToHub } from './hub-protocol.js';
import { SharedFrameRing, ringCapacity } from './shared-frame-ring.js';
import { threadIndexOf } from './thread-endpoint.js';
import type { ThreadLink } from './thread-hub.js';
import { ThreadReceiver, type RingSession } from './thread-receiver.js';
import { ThreadSender } from './thread-sender.js';

/** Default byte size of a channel's ring. */
export const DEFAULT_RING_BYTES = 1 << 20;

export interface ThreadTransportOptions {
  /** This thread's link to the hub of the process (`ThreadHub.link()`, passed to the thread). */
  readonly link: ThreadLink;
  /**
   * Bytes of the ring of each channel this transport sends on (rounded up to a power of two,
   * 4 KiB .. 1 GiB). Default 1 MiB. The ring bounds the memory of the channel.
   */
  readonly ringBytes?: number;
  /** Codec of the frames. Default: `ColumnFrameCodec` (columns for plain records, else plugin-kit's `MsgpackCodec`, the network transport's). */
  readonly codec?: Codec;
  readonly logger?: Logger;
}

/**
 * The transport between threads of one process (`thread://<pid>/<threadIndex>`), one per
 * thread. Each channel is a `SharedFrameRing` made by its sender; the `ThreadHub` hands it to
 * the receiving thread. Frames are encoded (msgpack) into the ring and decoded on `poll()`.
 */
export class ThreadTransport implements Transport {
  readonly kind = 'threads';
  readonly endpoint: string;
  private readonly port: ThreadLink['port'];
  private readonly ringBytes: number;
  private readonly codec: Codec;
  private readonly logger: Logger;
  private readonly events: TransportEvents;
  private readonly senders = new Map<ChannelId, ThreadSender>();
  private readonly receivers = new Map<ChannelId, ThreadReceiver>();
  /** Rings that arrived before their channel's receiver opened; bounded by the channels of the plan. */
  private readonly held = new Map<ChannelId, RingSession[]>();
  /** Endpoints this transport has channels with: they get its peer-lost events. */
  private readonly peers = new Set<string>();
  /** Endpoints the hub reported gone and not back. */
  private readonly down = new Set<string>();
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;

  constructor(options: ThreadTransportOptions) {
    const link = options?.link;
    if (link === undefined || typeof link.endpoint !== 'string' || link.port === undefined) {
      throw new TransportError('TRANSPORT_FAILED', 'thread transport: options.link must be a ThreadLink from ThreadHub.link()');
    }
    this.endpoint = link.endpoint;
    this.port = link.port;
    this.ringBytes = ringCapacity(options.ringBytes ?? DEFAULT_RING_BYTES);
    this.codec = options.codec ?? new ColumnFrameCodec();
    this.logger = options.logger ?? silentLogger;
    this.events = new TransportEvents(this.logger);
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', `thread transport ${this.endpoint} is closed`));
    this.starting ??= new Promise<void>((resolve, reject) => {
      const port = this.port;
      port.on('message', (message: FromHub) => {
        if (message?.t === 'welcome') {
          for (const e of message.live) this.down.delete(e);
          this.started = true;
          resolve();
        } else this.received(message);
      });
      port.once('close', () => {
        if (!this.started) reject(new TransportError('TRANSPORT_FAILED', `thread transport ${this.endpoint}: the hub closed the link before start() finished`));
        void this.close();
      });
      this.post({ t: 'hello' });
    });
    return this.starting;
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    this.assertOpen();
    const credits = channelCredits(channel, options);
    threadIndexOf(targetEndpoint);
    // A target this transport last saw gone may be back already: a new thread at its index,
    // whose 'up' is still on its way here while a recovery opens channels to it. The hub
    // decides: it hands the ring over, or answers 'down' and the channel closes.
    // One sending end per channel, as in the memory transport: a restarted attempt in this thread shares it.
    const existing = this.senders.get(channel);
    if (existing !== undefined && existing.peer === targetEndpoint && !existing.isClosed) return existing;
    const ring = SharedFrameRing.create(this.ringBytes);
    const sender = new ThreadSender(channel, credits, ring, targetEndpoint, this.codec, this.senderClosed);
    this.senders.set(channel, sender);
    this.peers.add(targetEndpoint);
    const offer: RingOffer = { t: 'ring', channel, to: targetEndpoint, from: this.endpoint, buffer: ring.buffer };
    if (targetEndpoint === this.endpoint) this.accept(offer);
    else this.post(offer);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.assertOpen();
    const credits = channelCredits(channel, options);
    const existing = this.receivers.get(channel);
    if (existing !== undefined) return existing;
    const receiver = new ThreadReceiver(channel, credits, this.codec, this.receiverClosed, this.listenerFailed);
    this.receivers.set(channel, receiver);
    const held = this.held.get(channel);
    this.held.delete(channel);
    if (held !== undefined) for (const session of held) receiver.attach(session);
    return receiver;
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.events.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const receiver of [...this.receivers.values()]) receiver.close();
    for (const sender of [...this.senders.values()]) sender.abandon();
    for (const sessions of this.held.values()) for (const s of sessions) s.ring.closeReceiver();
    this.held.clear();
    if (this.starting !== undefined) this.post({ t: 'bye' });
    this.port.close();
  }

  private received(message: FromHub): void {
    switch (message?.t) {
      case 'ring':
        this.accept(message);
        return;
      case 'up':
        // Only a comeback is a reconnection: a thread starting for the first time is news to nobody.
        if (this.down.delete(message.endpoint)) this.events.emit('peer-reconnected', message.endpoint);
        return;
      case 'down':
        this.peerGone(message.endpoint);
        return;
      default:
        this.logger.warn({ endpoint: this.endpoint }, 'thread transport: unknown message from the hub ignored');
    }
  }

  private accept(offer: RingOffer): void {
    if (this.closed) return;
    const session: RingSession = { ring: new SharedFrameRing(offer.buffer), peer: offer.from, lost: this.down.has(offer.from) };
    this.peers.add(offer.from);
    const receiver = this.receivers.get(offer.channel);
    if (receiver !== undefined) {
      receiver.attach(session);
      return;
    }
    const held = this.held.get(offer.channel);
    if (held === undefined) this.held.set(offer.channel, [session]);
    else held.push(session);
  }

  private peerGone(endpoint: string): void {
    this.down.add(endpoint);
    for (const sender of [...this.senders.values()]) if (sender.peer === endpoint) sender.abandon();
    for (const receiver of this.receivers.values()) receiver.peerLost(endpoint);
    for (const sessions of this.held.values()) for (const s of sessions) if (s.peer === endpoint) s.lost = true;
    if (this.peers.delete(endpoint)) this.events.emit('peer-lost', endpoint);
  }

  private readonly senderClosed = (sender: ThreadSender): void => {
    if (this.senders.get(sender.channel) === sender) this.senders.delete(sender.channel);
  };

  private readonly receiverClosed = (receiver: ThreadReceiver): void => {
    if (this.receivers.get(receiver.channel) === receiver) this.receivers.delete(receiver.channel);
  };

  private readonly listenerFailed = (receiver: ThreadReceiver, err: unknown): void => {
    this.logger.error({ err, channel: receiver.channel, endpoint: this.endpoint }, 'thread transport: readable listener threw');
  };

  private post(message: ToHub): void {
    this.port.postMessage(message);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `thread transport ${this.endpoint} is closed`);
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', `thread transport ${this.endpoint} is not started: call start() first`);
  }
}

/** Factory form, for configuration-driven selection. */
export function createThreadTransport(options: ThreadTransportOptions): ThreadTransport {
  return new ThreadTransport(options);
}
