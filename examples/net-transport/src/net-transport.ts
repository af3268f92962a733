import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  TransportError,
  silentLogger,
  type ChannelId,
  type ChannelOptions,
  type ChannelReceiver,
  type ChannelSender,
  type Logger,
  type Transport,
  type TransportEvent,
} from '@mobius/interface';
import { CreditReceiver, CreditReturns, PeerLogLimiter, TransportEvents, channelCredits, type CreditReceiverHost, type CreditSession } from '@mobius/plugin-kit';
import { endSocket } from './end-socket.js';
import { EPOCH_LIMIT, NetSender, Peer, type PeerHost } from './net-peer.js';
import { settle, type NetSettings, type NetTransportOptions, type NetTransportStats } from './net-options.js';
import {
  MSG_CLOSE,
  MSG_CREDIT,
  MSG_DATA,
  MSG_NAMES,
  MSG_OPEN,
  MessageReader,
  WireError,
  channelOf,
  encodeMessage,
  formatEndpoint,
  parseEndpoint,
  parsePayload,
  toFrame,
  uint,
  type RawMessage,
} from './wire.js';

const MAX_UNOPENED_CHANNELS = 65_536;
const MAX_CLOSED_REMEMBERED = 4096;

/** One accepted TCP connection: the channels of one sending transport to this one. */
class Inbound {
  readonly reader: MessageReader;
  /** Channels whose current session came over this connection. */
  readonly channels = new Set<InboundChannel>();
  /** Channels whose receiver closed while this connection fed them: their late DATA is dropped quietly. */
  readonly closedChannels = new Set<ChannelId>();

  constructor(
    readonly socket: Socket,
    maxMessageBytes: number,
  ) {
    this.reader = new MessageReader(maxMessageBytes);
  }

  rememberClosed(channel: ChannelId): void {
    this.closedChannels.delete(channel);
    this.closedChannels.add(channel);
    if (this.closedChannels.size > MAX_CLOSED_REMEMBERED) this.closedChannels.delete(this.closedChannels.values().next().value!);
  }
}

/** The receiving side of a channel: the kit's credit receiver, whose session peer is a connection. */
type InboundChannel = CreditReceiver<Inbound>;

let instances = 0;

/**
 * A Mobius transport on Node's `net` module: a TCP server at `tcp://host:port` receives every
 * channel whose receiver lives here; one outgoing connection per target endpoint carries every
 * channel sent there. Messages are length-prefixed JSON (see `wire.ts` and the README).
 *
 * Credits, queues, sessions and closing come from `@mobius/plugin-kit`: this file only maps
 * them onto sockets. OPEN starts a receiver session, DATA delivers into it, CREDIT and CLOSE
 * go back on the connection the OPEN came in on.
 */
export class NetTransport implements Transport, CreditReceiverHost<Inbound>, PeerHost {
  readonly kind = 'net';
  readonly logger: Logger;
  readonly settings: NetSettings;

  private server: Server | undefined;
  private boundEndpoint: string | undefined;
  private readonly inbound = new Map<ChannelId, InboundChannel>();
  private readonly connections = new Set<Inbound>();
  private readonly peers = new Map<string, Peer>();
  private readonly events: TransportEvents;
  private readonly malformedLog: PeerLogLimiter;
  private readonly creditReturns = new CreditReturns<Inbound>((ch, session, count) =>
    this.write(session.peer.socket, encodeMessage(MSG_CREDIT, { channel: ch.channel, count, epoch: session.epoch })),
  );
  private epoch = 0;
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };

  constructor(options: NetTransportOptions = {}) {
    this.settings = settle(options);
    this.logger = (options.logger ?? silentLogger).child({ component: 'transport-net', instance: ++instances });
    this.events = new TransportEvents(this.logger);
    this.malformedLog = new PeerLogLimiter(this.logger);
  }

  /** `tcp://host:port`: the bound port after `start()`, the configured one before. */
  get endpoint(): string {
    return this.boundEndpoint ?? formatEndpoint(this.settings.advertiseHost, this.settings.port);
  }

  stats(): NetTransportStats {
    return { ...this.counters, malformed: this.malformedLog.count };
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} is closed`));
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<void> {
    // A fixed port that was just released (a restarted process) may be busy for a moment.
    const deadline = Date.now() + (this.settings.port === 0 ? 0 : 2000);
    let server: Server;
    for (;;) {
      server = createServer((socket) => this.onConnection(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: this.settings.host, port: this.settings.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        server.close();
        if ((e as { code?: string }).code === 'EADDRINUSE' && Date.now() < deadline && !this.closed) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        this.starting = undefined;
        throw new TransportError('TRANSPORT_FAILED', `cannot listen on ${formatEndpoint(this.settings.host, this.settings.port)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (this.closed) {
      server.close();
      throw new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} was closed while starting`);
    }
    server.on('error', (err) => this.logger.error({ err }, 'net transport server error'));
    this.server = server;
    this.boundEndpoint = formatEndpoint(this.settings.advertiseHost, (server.address() as AddressInfo).port);
    this.started = true;
    this.logger.info({ endpoint: this.boundEndpoint }, 'net transport listening');
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    this.assertOpen();
    const credits = channelCredits(channel, options, this.settings.maxCredits);
    let peer = this.peers.get(targetEndpoint);
    if (peer === undefined) {
      const target = parseEndpoint(targetEndpoint);
      if (target === undefined) throw new TransportError('TRANSPORT_FAILED', `channel ${channel}: target endpoint must be tcp://host:port, got ${String(targetEndpoint)}`);
      peer = new Peer(this, targetEndpoint, target);
      this.peers.set(targetEndpoint, peer);
    }
    const sender = new NetSender(peer, channel, credits);
    peer.open(sender);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.assertOpen();
    const ch = this.inboundChannel(channel).open(channelCredits(channel, options, this.settings.maxCredits));
    ch.warnIfCreditsDisagree(this.logger);
    return ch;
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.events.on(event, listener);
  }

  /**
   * Closes every channel (senders are told with CLOSE), then ends every socket once its queued
   * bytes are out, waiting at most `closeTimeoutMs`, so the process can exit.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.malformedLog.flush();
    const deadline = Date.now() + this.settings.closeTimeoutMs;
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    for (const ch of [...this.inbound.values()]) ch.close();
    this.creditReturns.clear();
    const server = this.server;
    const serverClosed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...[...this.peers.values()].map((p) => p.close(deadline)), ...[...this.connections].map((c) => endSocket(c.socket, deadline))]);
    this.peers.clear();
    await serverClosed;
    this.logger.debug({ endpoint: this.endpoint }, 'net transport closed');
  }

  // --- for the kit's credit receivers ------------------------------------------------------------

  creditDue(ch: InboundChannel): void {
    this.creditReturns.schedule(ch);
  }

  receiverClosed(ch: InboundChannel, session: CreditSession<Inbound> | undefined): void {
    if (session !== undefined) {
      session.peer.rememberClosed(ch.channel);
      session.peer.channels.delete(ch);
      this.write(session.peer.socket, encodeMessage(MSG_CLOSE, { channel: ch.channel, epoch: session.epoch }));
    }
    if (this.inbound.get(ch.channel) === ch) this.inbound.delete(ch.channel);
    this.creditReturns.forget(ch);
  }

  listenerFailed(ch: InboundChannel, err: unknown): void {
    this.logger.error({ channel: ch.channel, err }, 'readable listener threw');
  }

  // --- for the peers -----------------------------------------------------------------------------

  nextEpoch(): number {
    this.epoch = this.epoch >= EPOCH_LIMIT ? 1 : this.epoch + 1;
    return this.epoch;
  }

  countOut(bytes: number, frames: number): void {
    this.counters.bytesOut += bytes;
    this.counters.framesOut += frames;
  }

  peerEvent(event: TransportEvent, endpoint: string): void {
    if (!this.closed) this.events.emit(event, endpoint);
  }

  /** Counts and logs a dropped message (rate-limited per peer: PeerLogLimiter). */
  malformed(reason: string, details: Record<string, unknown>): void {
    const from = details.peer ?? details.remote;
    const peer = typeof from === 'string' ? from : 'unknown';
    this.malformedLog.report('error', peer, 'malformed message dropped', { ...details, reason });
  }

  /**
   * Feeds a chunk to a connection's reader and handles every complete message. Never throws: a
   * bad message is dropped and counted; a corrupt length prefix also destroys the connection,
   * since the stream can no longer be cut into messages.
   */
  readStream(reader: MessageReader, chunk: Buffer, socket: Socket, handle: (m: RawMessage) => void, details: Record<string, unknown>): void {
    this.counters.bytesIn += chunk.length;
    reader.push(chunk);
    for (;;) {
      try {
        const message = reader.next();
        if (message === undefined) return;
        handle(message);
      } catch (e) {
        this.malformed(e instanceof Error ? e.message : String(e), details);
        if (e instanceof WireError && e.fatal) {
          socket.destroy();
          return;
        }
      }
    }
  }

  // --- receiving ---------------------------------------------------------------------------------

  private inboundChannel(channel: ChannelId): InboundChannel {
    let ch = this.inbound.get(channel);
    if (ch === undefined) {
      ch = new CreditReceiver<Inbound>(channel, this);
      this.inbound.set(channel, ch);
    }
    return ch;
  }

  private onConnection(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new Inbound(socket, this.settings.maxMessageBytes);
    this.connections.add(conn);
    const details = { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` };
    socket.on('data', (chunk: Buffer) => this.readStream(conn.reader, chunk, socket, (m) => this.onInboundMessage(conn, m), details));
    socket.on('end', () => {
      if (conn.reader.partial) this.malformed('connection ended inside a message', details);
    });
    socket.on('error', (err) => this.logger.debug({ ...details, err }, 'incoming connection failed'));
    socket.on('close', () => {
      // The sender is gone: its queued frames stay readable, and a channel nobody opened nor reads is dropped.
      this.connections.delete(conn);
      for (const ch of conn.channels) {
        if (ch.session?.peer !== conn) continue;
        ch.detach();
        this.creditReturns.forget(ch);
        if (ch.receiverCredits === undefined && ch.queued === 0 && this.inbound.get(ch.channel) === ch) this.inbound.delete(ch.channel);
      }
      conn.channels.clear();
    });
  }

  private onInboundMessage(conn: Inbound, message: RawMessage): void {
    if (this.closed) return; // the connection is being ended
    if (message.type === MSG_OPEN) return this.onOpen(conn, parsePayload(message.payload, 'OPEN'));
    if (message.type === MSG_DATA) return this.onData(conn, parsePayload(message.payload, 'DATA'));
    throw new WireError(`unexpected message type ${MSG_NAMES[message.type] ?? `0x${message.type.toString(16).padStart(2, '0')}`} on an incoming connection`);
  }

  private onOpen(conn: Inbound, o: Record<string, unknown>): void {
    const channel = channelOf(o, 'OPEN');
    const credits = uint(o, 'credits', 'OPEN', 1, this.settings.maxCredits);
    const epoch = uint(o, 'epoch', 'OPEN', 1, EPOCH_LIMIT);
    if (!this.inbound.has(channel) && this.inbound.size >= MAX_UNOPENED_CHANNELS) throw new WireError(`OPEN of channel ${channel} refused: ${this.inbound.size} channels already held`);
    const ch = this.inboundChannel(channel);
    ch.session?.peer.channels.delete(ch);
    ch.begin(conn, epoch, credits);
    conn.channels.add(ch);
    conn.closedChannels.delete(channel);
  }

  private onData(conn: Inbound, o: Record<string, unknown>): void {
    const channel = channelOf(o, 'DATA');
    const ch = this.inbound.get(channel);
    const session = ch?.session;
    if (ch === undefined || session === undefined || session.peer !== conn) {
      if (conn.closedChannels.has(channel)) return; // in flight when the receiver closed
      throw new WireError(`DATA on channel ${channel} without an OPEN on this connection`);
    }
    if (ch.full) throw new WireError(`DATA on channel ${channel} exceeds its ${session.capacity} credits`);
    try {
      ch.deliver(toFrame(o));
    } catch (e) {
      ch.refund(); // the sender spent a credit on it: give it back so its channel does not shrink
      throw e;
    }
    this.counters.framesIn++;
  }

  private write(socket: Socket, message: Buffer): void {
    if (!socket.writable) return;
    this.counters.bytesOut += message.length;
    socket.write(message);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} is closed`);
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', `net transport ${this.endpoint} is not started: call start() first`);
  }
}
