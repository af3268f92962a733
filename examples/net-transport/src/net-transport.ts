import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  TransportError,
  silentLogger,
  type ChannelId,
  type ChannelOptions,
  type ChannelReceiver,
  type ChannelSender,
  type Frame,
  type Logger,
  type Transport,
  type TransportEvent,
} from '@mobius/interface';
import {
  MAX_MESSAGE_BYTES,
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

/** Options of {@link NetTransport}. */
export interface NetTransportOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port. Default 0: an ephemeral port, read it from `endpoint` after `start()`. */
  readonly port?: number;
  /** Full endpoint `tcp://host:port` to listen on; overrides `host` and `port`. */
  readonly endpoint?: string;
  /** Host written into `endpoint` when listening on a wildcard address. Default `127.0.0.1`. */
  readonly advertiseHost?: string;
  /** Structured logger. Default: silent. */
  readonly logger?: Logger;
  /** Longest time `close()` waits for queued bytes to reach the peers. Default 2000 ms. */
  readonly closeTimeoutMs?: number;
  /** Largest credit count a sender may announce (bounds what an unopened channel holds). Default 65536. */
  readonly maxCredits?: number;
  /** Largest message (type byte + payload). Default and maximum 64 MiB. */
  readonly maxMessageBytes?: number;
  /** First reconnect delay after a lost connection; doubles up to `reconnectMaxMs`. Default 25 ms. */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay. Default 1000 ms. */
  readonly reconnectMaxMs?: number;
}

/** Counters of one transport since it was made. */
export interface NetTransportStats {
  /** DATA frames accepted into receive queues. */
  readonly framesIn: number;
  /** DATA frames handed to a socket (or queued for one that is connecting). */
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Messages (or byte streams) dropped because they did not follow the protocol. */
  readonly malformed: number;
}

const MAX_UNOPENED_CHANNELS = 65_536;
const MAX_CLOSED_REMEMBERED = 4096;
const LOG_BURST = 100;
const EPOCH_LIMIT = 0xffff_ffff;

// --- receiving side ------------------------------------------------------------------------------

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

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  rememberClosed(channel: ChannelId): void {
    this.closedChannels.delete(channel);
    this.closedChannels.add(channel);
    if (this.closedChannels.size > MAX_CLOSED_REMEMBERED) this.closedChannels.delete(this.closedChannels.values().next().value!);
  }
}

/** The sender feeding a channel, as announced by its OPEN. */
interface Session {
  readonly conn: Inbound;
  readonly epoch: number;
  /** Credits the sender announced: the most frames of this session queued here at once. */
  readonly capacity: number;
  /** Frames of this session queued and not yet polled. */
  outstanding: number;
  /** Frames polled whose credit is not yet sent back. */
  pendingCredit: number;
}

/**
 * The receiving side of one channel: a queue that exists from the first OPEN or `openReceiver`,
 * whichever comes first. Frames arriving before the receiver opens are held here, up to the
 * sender's credits.
 */
class InboundChannel {
  private queue: Frame[] = [];
  private head = 0;
  /** Frames at the head of the queue from an earlier session: polled without returning credit. */
  stale = 0;
  session: Session | undefined;
  listener: (() => void) | undefined;
  receiverOpen = false;
  closed = false;

  constructor(
    readonly id: ChannelId,
    private readonly transport: NetTransport,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  push(frame: Frame): void {
    const wasEmpty = this.queued === 0;
    this.queue.push(frame);
    if (wasEmpty) this.notify();
  }

  poll(): Frame | undefined {
    if (this.head >= this.queue.length) return undefined;
    const frame = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as Frame;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.stale > 0) {
      this.stale--;
    } else if (this.session !== undefined) {
      this.session.outstanding--;
      this.session.pendingCredit++;
      this.transport.scheduleCredit(this);
    }
    return frame;
  }

  setListener(listener: () => void): void {
    this.listener = listener;
    if (this.queued > 0 || this.closed) this.notify();
  }

  /** The session's sender went away: its queued frames stay readable, their credits go nowhere. */
  detach(): void {
    if (this.session === undefined) return;
    this.stale += this.session.outstanding;
    this.session = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.stale = 0;
    this.notify();
  }

  notify(): void {
    const listener = this.listener;
    if (listener === undefined) return;
    try {
      listener();
    } catch (e) {
      this.transport.logger.error({ channel: this.id, err: e }, 'readable listener threw');
    }
  }
}

class NetReceiver implements ChannelReceiver {
  constructor(
    private readonly ch: InboundChannel,
    private readonly transport: NetTransport,
  ) {}

  get channel(): ChannelId {
    return this.ch.id;
  }

  poll(): Frame | undefined {
    return this.ch.poll();
  }

  onReadable(listener: () => void): void {
    this.ch.setListener(listener);
  }

  close(): void {
    this.transport.closeInbound(this.ch);
  }
}

// --- sending side --------------------------------------------------------------------------------

/**
 * The one outgoing TCP connection of this transport to one target endpoint, shared by every
 * channel sent there. Reconnects with backoff after a loss and re-opens its channels.
 */
class Peer {
  readonly senders = new Map<ChannelId, NetSender>();
  private socket: Socket | undefined;
  private connected = false;
  /** A connection was up at least once: from then on a new connection re-opens the channels. */
  private established = false;
  private lost = false;
  /** Messages written before the first connection is up. */
  private pending: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private backoff: number;
  private closed = false;

  constructor(
    private readonly transport: NetTransport,
    readonly endpoint: string,
    private readonly host: string,
    private readonly port: number,
  ) {
    this.backoff = transport.reconnectMinMs;
    this.connect();
  }

  send(message: Buffer, frames = 0): void {
    this.transport.countOut(message.length, frames);
    if (this.connected) this.socket!.write(message);
    // Before the first connection, keep the messages (the channel credits bound them). After a
    // loss they would be dropped anyway: the reconnection re-opens every channel.
    else if (!this.established) this.pending.push(message);
  }

  open(sender: NetSender): void {
    const previous = this.senders.get(sender.channel);
    if (previous !== undefined && previous !== sender) previous.closeLocally();
    this.senders.set(sender.channel, sender);
    this.send(encodeMessage(MSG_OPEN, { channel: sender.channel, credits: sender.capacity, epoch: sender.epoch }));
  }

  forget(sender: NetSender): void {
    if (this.senders.get(sender.channel) === sender) this.senders.delete(sender.channel);
  }

  /** Ends the connection once its queued bytes are out (at most until `deadline`). */
  async close(deadline: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const s of [...this.senders.values()]) s.closeLocally();
    this.senders.clear();
    this.pending = [];
    const socket = this.socket;
    if (socket === undefined) return;
    // A connected socket is ended after its queued bytes; one still connecting has nobody to flush to.
    await endSocket(socket, deadline, this.connected);
  }

  private connect(): void {
    this.timer = undefined;
    if (this.closed) return;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    const reader = new MessageReader(this.transport.maxMessageBytes);
    this.socket = socket;
    socket.on('connect', () => this.onConnect(socket));
    socket.on('data', (chunk: Buffer) => this.transport.readStream(reader, chunk, socket, (m) => this.onMessage(m), { peer: this.endpoint }));
    socket.on('error', (err) => this.transport.logger.debug({ peer: this.endpoint, err }, 'connection to peer failed'));
    socket.on('close', () => this.onClose(socket));
  }

  private onConnect(socket: Socket): void {
    if (this.socket !== socket || this.closed) return;
    this.connected = true;
    this.backoff = this.transport.reconnectMinMs;
    if (this.established) {
      // Frames in flight on the old connection may be lost, and with them their credits: every
      // channel starts a new epoch with full credits and announces it with a new OPEN.
      for (const s of [...this.senders.values()]) s.reopen();
    } else {
      this.established = true;
      const pending = this.pending;
      this.pending = [];
      for (const m of pending) socket.write(m);
    }
    if (this.lost) {
      this.lost = false;
      this.transport.logger.info({ peer: this.endpoint }, 'peer reconnected');
      this.transport.peerEvent('peer-reconnected', this.endpoint);
    }
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.connected = false;
    if (this.closed) return;
    if (!this.lost) {
      this.lost = true;
      this.transport.logger.warn({ peer: this.endpoint }, 'peer lost');
      this.transport.peerEvent('peer-lost', this.endpoint);
    }
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, this.transport.reconnectMaxMs);
  }

  private onMessage(message: RawMessage): void {
    switch (message.type) {
      case MSG_CREDIT: {
        const o = parsePayload(message.payload, 'CREDIT');
        const channel = channelOf(o, 'CREDIT');
        const count = uint(o, 'count', 'CREDIT', 1);
        const epoch = uint(o, 'epoch', 'CREDIT', 1, EPOCH_LIMIT);
        const sender = this.senders.get(channel);
        if (sender === undefined || sender.epoch !== epoch) return; // a closed sender or an earlier epoch
        sender.grant(count);
        return;
      }
      case MSG_CLOSE: {
        const o = parsePayload(message.payload, 'CLOSE');
        const channel = channelOf(o, 'CLOSE');
        const epoch = uint(o, 'epoch', 'CLOSE', 1, EPOCH_LIMIT);
        const sender = this.senders.get(channel);
        if (sender === undefined || sender.epoch !== epoch) return;
        this.transport.logger.debug({ channel, peer: this.endpoint }, 'receiver closed the channel');
        sender.closeLocally();
        return;
      }
      default:
        throw new WireError(`unexpected message type ${MSG_NAMES[message.type] ?? `0x${message.type.toString(16).padStart(2, '0')}`} on an outgoing connection`);
    }
  }
}

/** The sending end of a channel: local credits, refilled by CREDIT messages. */
class NetSender implements ChannelSender {
  epoch: number;
  private available: number;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly peer: Peer,
    private readonly transport: NetTransport,
    readonly channel: ChannelId,
    readonly capacity: number,
  ) {
    this.epoch = transport.nextEpoch();
    this.available = capacity;
  }

  get credits(): number {
    return this.closed ? 0 : this.available;
  }

  trySend(frame: Frame): boolean {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `channel ${this.channel} is closed`);
    if (frame?.channel !== this.channel) throw new TransportError('FRAME_MALFORMED', `frame of channel ${String(frame?.channel)} sent on channel ${this.channel}`);
    if (this.available <= 0) return false;
    let message: Buffer;
    try {
      message = encodeMessage(MSG_DATA, frame, this.transport.maxMessageBytes);
    } catch (e) {
      throw new TransportError('FRAME_MALFORMED', `channel ${this.channel}: cannot encode frame: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.available--;
    this.peer.send(message, 1);
    return true;
  }

  whenWritable(): Promise<void> {
    if (this.closed || this.available > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Closes the local end; frames already sent still arrive and stay readable. */
  close(): void {
    this.closeLocally();
  }

  grant(count: number): void {
    if (this.closed) return;
    const next = this.available + count;
    if (next > this.capacity) {
      this.transport.malformed(`CREDIT of ${count} would exceed the ${this.capacity} credits of channel ${this.channel}`, { peer: this.peer.endpoint });
      this.available = this.capacity;
    } else {
      this.available = next;
    }
    this.wake();
  }

  reopen(): void {
    if (this.closed) return;
    this.epoch = this.transport.nextEpoch();
    this.available = this.capacity;
    this.peer.open(this);
    this.wake();
  }

  closeLocally(): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.forget(this);
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

// --- the transport -------------------------------------------------------------------------------

let instances = 0;

/**
 * A Mobius transport on Node's `net` module: a TCP server at `tcp://host:port` receives every
 * channel whose receiver lives here; one outgoing connection per target endpoint carries every
 * channel sent there. Messages are length-prefixed JSON; flow control is per channel with
 * credits, as in the memory transport. See the README for the wire format.
 */
export class NetTransport implements Transport {
  readonly kind = 'net';
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  private readonly listenHost: string;
  private readonly listenPort: number;
  private readonly advertiseHost: string;
  private readonly closeTimeoutMs: number;
  private readonly maxCredits: number;

  private server: Server | undefined;
  private boundEndpoint: string | undefined;
  private readonly inbound = new Map<ChannelId, InboundChannel>();
  private readonly connections = new Set<Inbound>();
  private readonly peers = new Map<string, Peer>();
  private readonly listeners = new Map<TransportEvent, ((peer: string) => void)[]>();
  private creditDue = new Set<InboundChannel>();
  private creditMicrotask = false;
  private creditImmediate = false;
  private epoch = 0;
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private logWindowStart = 0;
  private logWindowCount = 0;
  private readonly counters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, malformed: 0 };

  constructor(options: NetTransportOptions = {}) {
    let host = options.host ?? '127.0.0.1';
    let port = options.port ?? 0;
    if (options.endpoint !== undefined) {
      const parsed = parseEndpoint(options.endpoint);
      if (parsed === undefined) throw new TransportError('TRANSPORT_FAILED', `endpoint must be tcp://host:port, got ${String(options.endpoint)}`);
      ({ host, port } = parsed);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TransportError('TRANSPORT_FAILED', `port must be an integer in 0..65535, got ${String(port)}`);
    this.listenHost = host;
    this.listenPort = port;
    const wildcard = host === '0.0.0.0' || host === '::' || host === '*';
    this.advertiseHost = options.advertiseHost ?? (wildcard ? '127.0.0.1' : host);
    this.closeTimeoutMs = positive(options.closeTimeoutMs ?? 2000, 'closeTimeoutMs');
    this.maxCredits = positive(options.maxCredits ?? 65_536, 'maxCredits');
    this.maxMessageBytes = Math.min(positive(options.maxMessageBytes ?? MAX_MESSAGE_BYTES, 'maxMessageBytes'), MAX_MESSAGE_BYTES);
    this.reconnectMinMs = positive(options.reconnectMinMs ?? 25, 'reconnectMinMs');
    this.reconnectMaxMs = Math.max(this.reconnectMinMs, positive(options.reconnectMaxMs ?? 1000, 'reconnectMaxMs'));
    this.logger = (options.logger ?? silentLogger).child({ component: 'transport-net', instance: ++instances });
  }

  /** `tcp://host:port`: the bound port after `start()`, the configured one before. */
  get endpoint(): string {
    return this.boundEndpoint ?? formatEndpoint(this.advertiseHost, this.listenPort);
  }

  stats(): NetTransportStats {
    return { ...this.counters };
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} is closed`));
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<void> {
    // A fixed port that was just released (a restarted process) may be busy for a moment.
    const deadline = Date.now() + (this.listenPort === 0 ? 0 : 2000);
    let server: Server;
    for (;;) {
      server = createServer((socket) => this.onConnection(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: this.listenHost, port: this.listenPort }, () => {
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
        throw new TransportError('TRANSPORT_FAILED', `cannot listen on ${formatEndpoint(this.listenHost, this.listenPort)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (this.closed) {
      server.close();
      throw new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} was closed while starting`);
    }
    server.on('error', (err) => this.logger.error({ err }, 'net transport server error'));
    this.server = server;
    this.boundEndpoint = formatEndpoint(this.advertiseHost, (server.address() as AddressInfo).port);
    this.started = true;
    this.logger.info({ endpoint: this.boundEndpoint }, 'net transport listening');
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    this.assertOpen();
    const credits = this.checkCredits(channel, options);
    let peer = this.peers.get(targetEndpoint);
    if (peer === undefined) {
      const target = parseEndpoint(targetEndpoint);
      if (target === undefined) throw new TransportError('TRANSPORT_FAILED', `channel ${channel}: target endpoint must be tcp://host:port, got ${String(targetEndpoint)}`);
      peer = new Peer(this, targetEndpoint, target.host, target.port);
      this.peers.set(targetEndpoint, peer);
    }
    const sender = new NetSender(peer, this, channel, credits);
    peer.open(sender);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.assertOpen();
    const credits = this.checkCredits(channel, options);
    let ch = this.inbound.get(channel);
    if (ch === undefined) {
      ch = new InboundChannel(channel, this);
      this.inbound.set(channel, ch);
    }
    ch.receiverOpen = true;
    if (ch.session !== undefined && ch.session.capacity !== credits) {
      this.logger.warn({ channel, receiverCredits: credits, senderCredits: ch.session.capacity }, 'sender and receiver disagree on the credits of a channel; the sender’s value bounds the queue');
    }
    return new NetReceiver(ch, this);
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
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
    const deadline = Date.now() + this.closeTimeoutMs;
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    for (const ch of [...this.inbound.values()]) this.closeInbound(ch);
    this.inbound.clear();
    this.creditDue.clear();
    const server = this.server;
    const serverClosed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...[...this.peers.values()].map((p) => p.close(deadline)), ...[...this.connections].map((c) => endSocket(c.socket, deadline))]);
    this.peers.clear();
    await serverClosed;
    this.logger.debug({ endpoint: this.endpoint }, 'net transport closed');
  }

  // --- used by the channel classes ---------------------------------------------------------------

  nextEpoch(): number {
    this.epoch = this.epoch >= EPOCH_LIMIT ? 1 : this.epoch + 1;
    return this.epoch;
  }

  countOut(bytes: number, frames: number): void {
    this.counters.bytesOut += bytes;
    this.counters.framesOut += frames;
  }

  /**
   * Credits go back in batches: once a quarter of a channel's credits (at least one) is due,
   * right after the current drain (a microtask); a smaller remainder on the next event-loop turn,
   * so a single poll still frees its sender promptly.
   */
  scheduleCredit(ch: InboundChannel): void {
    this.creditDue.add(ch);
    const s = ch.session!;
    if (s.pendingCredit >= Math.max(1, s.capacity >> 2)) {
      if (this.creditMicrotask) return;
      this.creditMicrotask = true;
      queueMicrotask(() => {
        this.creditMicrotask = false;
        this.flushCredits();
      });
    } else if (!this.creditImmediate) {
      this.creditImmediate = true;
      setImmediate(() => {
        this.creditImmediate = false;
        this.flushCredits();
      });
    }
  }

  closeInbound(ch: InboundChannel): void {
    if (ch.closed) return;
    const s = ch.session;
    if (s !== undefined) {
      s.conn.rememberClosed(ch.id);
      s.conn.channels.delete(ch);
      this.write(s.conn.socket, encodeMessage(MSG_CLOSE, { channel: ch.id, epoch: s.epoch }));
    }
    ch.session = undefined;
    ch.receiverOpen = false;
    if (this.inbound.get(ch.id) === ch) this.inbound.delete(ch.id);
    this.creditDue.delete(ch);
    ch.close();
  }

  peerEvent(event: TransportEvent, endpoint: string): void {
    if (this.closed) return;
    for (const l of this.listeners.get(event) ?? []) {
      try {
        l(endpoint);
      } catch (e) {
        this.logger.error({ err: e, event, peer: endpoint }, 'transport event listener threw');
      }
    }
  }

  /** Counts and logs a dropped message (at most 100 log lines per second). */
  malformed(reason: string, details: Record<string, unknown>): void {
    this.counters.malformed++;
    const now = Date.now();
    if (now - this.logWindowStart > 1000) {
      if (this.logWindowCount > LOG_BURST) this.logger.error({ suppressed: this.logWindowCount - LOG_BURST }, 'more malformed messages were dropped without a log line');
      this.logWindowStart = now;
      this.logWindowCount = 0;
    }
    if (++this.logWindowCount <= LOG_BURST) this.logger.error({ ...details, reason }, `malformed message dropped: ${reason}`);
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
      let message: RawMessage | undefined;
      try {
        message = reader.next();
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

  private onConnection(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new Inbound(socket, this.maxMessageBytes);
    this.connections.add(conn);
    const details = { remote: conn.remote };
    socket.on('data', (chunk: Buffer) => this.readStream(conn.reader, chunk, socket, (m) => this.onInboundMessage(conn, m), details));
    socket.on('end', () => {
      if (conn.reader.partial) this.malformed('connection ended inside a message', details);
    });
    socket.on('error', (err) => this.logger.debug({ ...details, err }, 'incoming connection failed'));
    socket.on('close', () => {
      this.connections.delete(conn);
      for (const ch of conn.channels) {
        if (ch.session?.conn !== conn) continue;
        ch.detach();
        this.creditDue.delete(ch);
        if (!ch.receiverOpen && ch.queued === 0 && this.inbound.get(ch.id) === ch) this.inbound.delete(ch.id);
      }
      conn.channels.clear();
    });
  }

  private onInboundMessage(conn: Inbound, message: RawMessage): void {
    if (this.closed) return; // the connection is being ended
    switch (message.type) {
      case MSG_OPEN:
        return this.onOpen(conn, parsePayload(message.payload, 'OPEN'));
      case MSG_DATA:
        return this.onData(conn, parsePayload(message.payload, 'DATA'));
      default:
        throw new WireError(`unexpected message type ${MSG_NAMES[message.type] ?? `0x${message.type.toString(16).padStart(2, '0')}`} on an incoming connection`);
    }
  }

  private onOpen(conn: Inbound, o: Record<string, unknown>): void {
    const channel = channelOf(o, 'OPEN');
    const credits = uint(o, 'credits', 'OPEN', 1, this.maxCredits);
    const epoch = uint(o, 'epoch', 'OPEN', 1, EPOCH_LIMIT);
    let ch = this.inbound.get(channel);
    if (ch === undefined) {
      if (this.inbound.size >= MAX_UNOPENED_CHANNELS) throw new WireError(`OPEN of channel ${channel} refused: ${this.inbound.size} channels already held`);
      ch = new InboundChannel(channel, this);
      this.inbound.set(channel, ch);
    }
    const previous = ch.session;
    if (previous !== undefined) {
      // Frames of the earlier session stay readable; their credits go to no one, since the new
      // session starts with full credits.
      previous.conn.channels.delete(ch);
      ch.detach();
    }
    ch.session = { conn, epoch, capacity: credits, outstanding: 0, pendingCredit: 0 };
    conn.channels.add(ch);
    conn.closedChannels.delete(channel);
  }

  private onData(conn: Inbound, o: Record<string, unknown>): void {
    const channel = channelOf(o, 'DATA');
    const ch = this.inbound.get(channel);
    const session = ch?.session;
    if (ch === undefined || session === undefined || session.conn !== conn) {
      if (conn.closedChannels.has(channel)) return; // in flight when the receiver closed
      throw new WireError(`DATA on channel ${channel} without an OPEN on this connection`);
    }
    if (session.outstanding >= session.capacity) throw new WireError(`DATA on channel ${channel} exceeds its ${session.capacity} credits`);
    let frame: Frame;
    try {
      frame = toFrame(o);
    } catch (e) {
      // The sender spent a credit on it: give it back so its channel does not shrink.
      session.pendingCredit++;
      this.scheduleCredit(ch);
      throw e;
    }
    session.outstanding++;
    this.counters.framesIn++;
    ch.push(frame);
  }

  private flushCredits(): void {
    if (this.creditDue.size === 0) return;
    const due = this.creditDue;
    this.creditDue = new Set();
    for (const ch of due) {
      const s = ch.session;
      if (s === undefined || s.pendingCredit === 0) continue;
      const count = s.pendingCredit;
      s.pendingCredit = 0;
      this.write(s.conn.socket, encodeMessage(MSG_CREDIT, { channel: ch.id, count, epoch: s.epoch }));
    }
  }

  private write(socket: Socket, message: Buffer): void {
    if (!socket.writable) return;
    this.counters.bytesOut += message.length;
    socket.write(message);
  }

  private checkCredits(channel: ChannelId, options: ChannelOptions): number {
    const credits = options?.credits;
    if (!Number.isInteger(credits) || credits < 1 || credits > this.maxCredits) {
      throw new TransportError('TRANSPORT_FAILED', `channel ${channel}: credits must be an integer in 1..${this.maxCredits}, got ${String(credits)}`);
    }
    return credits;
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `net transport ${this.endpoint} is closed`);
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', `net transport ${this.endpoint} is not started: call start() first`);
  }
}

/**
 * Ends a socket after its queued bytes are written (or destroys it at once when `graceful` is
 * false), and resolves once it is closed; destroys it if it is still open at `deadline`.
 */
function endSocket(socket: Socket, deadline: number, graceful = true): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (graceful) socket.end();
    else socket.destroy();
  });
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TransportError('TRANSPORT_FAILED', `${name} must be a positive number, got ${String(value)}`);
  return value;
}
