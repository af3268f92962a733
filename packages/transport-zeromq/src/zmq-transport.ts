// Why this file is long: it is one class: the ROUTER (receiving) side of the protocol, the
// transport's lifecycle and the kit's credit host are one state machine over one socket. The
// DEALER (sending) side is in outbound.ts, the options in zmq-options.ts.
import { randomUUID } from 'node:crypto';
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
import { CreditReturns, MsgpackCodec, TransportEvents, channelCredits, type CreditReceiverHost, type CreditSession } from '@mobius/plugin-kit';
import { Router } from 'zeromq';
import { InboundChannel } from './inbound.js';
import { PeerLogLimiter } from '@mobius/plugin-kit';
import { Peer, ZmqSender, type PeerHost } from './outbound.js';
import { SendQueue } from './send-queue.js';
import { positive, type CurveOptions, type ZmqTransportOptions, type ZmqTransportStats } from './zmq-options.js';
import {
  MSG_CLOSE,
  MSG_CREDIT,
  MSG_DATA,
  MSG_NAMES,
  MSG_OPEN,
  MSG_PING,
  MSG_PONG,
  TYPE_PART,
  WireError,
  advertised,
  readChannel,
  readU32,
  readU32Pair,
  u32,
  u32Pair,
} from './wire.js';

const MAX_CLOSED_SESSIONS = 4096;
const MAX_UNOPENED_CHANNELS = 65_536;

let instances = 0;

/**
 * The network transport of Mobius on ZeroMQ. One ROUTER socket bound at `endpoint` receives
 * every channel of this process; one DEALER per target endpoint sends every channel to it.
 * Credit-based flow control per channel, like the memory transport. See the README for the
 * wire protocol.
 */
export class ZmqTransport implements Transport, CreditReceiverHost<Buffer>, PeerHost {
  readonly kind = 'zeromq';
  readonly codec: Codec;
  readonly logger: Logger;
  readonly peerTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxMessageBytes: number;
  private readonly maxCredits: number;
  private readonly bindAddress: string;
  private readonly advertiseHost: string;
  private readonly curve: CurveOptions | undefined;
  /** Routing id of every DEALER of this transport: unique per transport instance. */
  readonly routingId: string;

  private router: Router | undefined;
  private routerQueue: SendQueue | undefined;
  private boundEndpoint: string | undefined;
  private readonly inbound = new Map<ChannelId, InboundChannel>();
  private readonly peers = new Map<string, Peer>();
  private readonly events: TransportEvents;
  private readonly malformedLog: PeerLogLimiter;
  /** `${routing id}\0${channel}` of sessions whose receiver closed: their late DATA is dropped quietly. */
  private readonly closedSessions = new Set<string>();
  private readonly creditReturns = new CreditReturns<Buffer>((ch, session, count) =>
    this.routerSend([session.peer, TYPE_PART[MSG_CREDIT], (ch as InboundChannel).idPart, u32Pair(count, session.epoch)]),
  );
  private timer: NodeJS.Timeout | undefined;
  private epoch = 0;
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private counters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };

  constructor(options: ZmqTransportOptions = {}) {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TransportError('TRANSPORT_FAILED', `port must be an integer in 0..65535, got ${String(port)}`);
    }
    this.bindAddress = options.endpoint ?? `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!/^(tcp|ipc|inproc):\/\/.+/.test(this.bindAddress)) {
      throw new TransportError('TRANSPORT_FAILED', `endpoint must be tcp://, ipc:// or inproc://, got ${this.bindAddress}`);
    }
    const wildcard = host === '0.0.0.0' || host === '*' || host === '::';
    this.advertiseHost = options.advertiseHost ?? (wildcard ? '127.0.0.1' : host);
    this.codec = options.codec ?? new MsgpackCodec();
    this.peerTimeoutMs = positive(options.peerTimeoutMs ?? 2000, 'peerTimeoutMs');
    this.closeTimeoutMs = positive(options.closeTimeoutMs ?? 2000, 'closeTimeoutMs');
    this.maxMessageBytes = positive(options.maxMessageBytes ?? 256 * 1024 * 1024, 'maxMessageBytes');
    this.maxCredits = positive(options.maxCredits ?? 65_536, 'maxCredits');
    this.curve = options.curve;
    this.routingId = `mobius-${process.pid}-${++instances}-${randomUUID().slice(0, 8)}`;
    this.logger = (options.logger ?? silentLogger).child({ component: 'transport-zeromq', routingId: this.routingId });
    this.events = new TransportEvents(this.logger);
    this.malformedLog = new PeerLogLimiter(this.logger);
  }

  /** The endpoint peers use to reach this transport's receivers (the bound one after `start()`). */
  get endpoint(): string {
    return this.boundEndpoint ?? this.bindAddress;
  }

  stats(): ZmqTransportStats {
    return { ...this.counters, malformed: this.malformedLog.count };
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', `zeromq transport ${this.endpoint} is closed`));
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<void> {
    const curve = this.curve;
    const router = new Router({
      mandatory: true, // unroutable replies fail at once instead of vanishing
      sendTimeout: 0, // never block the event loop on a slow peer: replies are small and few
      sendHighWaterMark: 0,
      handover: true, // a sender that reconnects with the same routing id takes over its old pipe
      maxMessageSize: this.maxMessageBytes,
      linger: this.closeTimeoutMs,
      ...(curve === undefined ? {} : { curveServer: true, curveSecretKey: curve.secretKey, curvePublicKey: curve.publicKey }),
    });
    // A fixed endpoint that was just released (a restarted process) may still be busy for a moment.
    const deadline = Date.now() + (isEphemeral(this.bindAddress) ? 0 : 2000);
    for (;;) {
      try {
        await router.bind(this.bindAddress);
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'EADDRINUSE' && Date.now() < deadline && !this.closed) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        router.close();
        this.starting = undefined;
        throw new TransportError('TRANSPORT_FAILED', `cannot bind ${this.bindAddress}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (this.closed) {
      router.close();
      throw new TransportError('TRANSPORT_CLOSED', `zeromq transport ${this.bindAddress} was closed while starting`);
    }
    this.router = router;
    this.routerQueue = new SendQueue(router, this.logger, 'router', (err) => {
      // EHOSTUNREACH: the sender went away; its credits or pongs have nobody to go to.
      if ((err as { code?: string }).code === 'EHOSTUNREACH') return true;
      return false;
    });
    this.boundEndpoint = advertised(router.lastEndpoint ?? this.bindAddress, this.advertiseHost);
    this.started = true;
    const interval = Math.max(20, Math.floor(this.peerTimeoutMs / 4));
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
    void this.receiveLoop(router);
    this.logger.debug({ endpoint: this.boundEndpoint }, 'zeromq transport bound');
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    this.assertOpen();
    const credits = channelCredits(channel, options, this.maxCredits);
    if (typeof targetEndpoint !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(targetEndpoint)) {
      throw new TransportError('TRANSPORT_FAILED', `channel ${channel}: target endpoint must be tcp://, ipc:// or inproc://, got ${String(targetEndpoint)}`);
    }
    let peer = this.peers.get(targetEndpoint);
    if (peer === undefined) {
      const curve = this.curve;
      peer = new Peer(this, targetEndpoint, {
        routingId: this.routingId,
        maxMessageSize: this.maxMessageBytes,
        linger: this.closeTimeoutMs,
        ...(curve === undefined ? {} : { curve: { publicKey: curve.publicKey, secretKey: curve.secretKey, serverPublicKey: curve.serverPublicKey ?? curve.publicKey } }),
      });
      this.peers.set(targetEndpoint, peer);
    }
    const sender = new ZmqSender(peer, this, channel, credits);
    peer.open(sender);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.assertOpen();
    const credits = channelCredits(channel, options, this.maxCredits);
    let ch = this.inbound.get(channel);
    if (ch === undefined) {
      ch = new InboundChannel(channel, this);
      this.inbound.set(channel, ch);
    }
    ch.open(credits).warnIfCreditsDisagree(this.logger);
    return ch;
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.events.on(event, listener);
  }

  /**
   * Closes every channel, waits (at most `closeTimeoutMs`) until the frames already sent reached
   * their peers, then closes the sockets with a bounded linger so the process can exit.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.malformedLog.flush();
    const deadline = Date.now() + this.closeTimeoutMs;
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    if (this.timer !== undefined) clearInterval(this.timer);
    // Receivers: tell each sender its channel closed, wake the readers.
    for (const ch of [...this.inbound.values()]) ch.close();
    this.creditReturns.flush();
    // Senders: no new frames; the ones queued still go out. A PING behind them is answered
    // only once everything before it was received.
    for (const peer of this.peers.values()) for (const s of [...peer.senders.values()]) s.closeLocally();
    const peers = [...this.peers.values()];
    const flushed = await Promise.all(peers.map((p) => p.flush(deadline)));
    if (this.routerQueue !== undefined) await untilDeadline(this.routerQueue.idle(), deadline);
    const remaining = Math.max(0, deadline - Date.now());
    peers.forEach((p, i) => p.close(flushed[i] ? 0 : remaining));
    this.peers.clear();
    const router = this.router;
    if (router !== undefined) {
      this.routerQueue?.stop();
      router.linger = Math.min(remaining, 200);
      router.close();
    }
    this.inbound.clear();
    this.creditReturns.clear();
    this.logger.debug({ endpoint: this.endpoint, flushed: flushed.filter(Boolean).length, peers: peers.length }, 'zeromq transport closed');
  }

  // --- CreditReceiverHost ----------------------------------------------------------------------

  creditDue(ch: InboundChannel): void {
    this.creditReturns.schedule(ch);
  }

  /** Tells the sender of the closed channel's session, which stops it. */
  receiverClosed(ch: InboundChannel, session: CreditSession<Buffer> | undefined): void {
    if (session !== undefined && this.routerQueue !== undefined && this.router !== undefined && !this.router.closed) {
      this.rememberClosed(session.peer, ch.channel);
      this.routerSend([session.peer, TYPE_PART[MSG_CLOSE], ch.idPart, u32(session.epoch)]);
    }
    if (this.inbound.get(ch.channel) === ch) this.inbound.delete(ch.channel);
    this.creditReturns.forget(ch);
  }

  listenerFailed(ch: InboundChannel, err: unknown): void {
    this.logger.error({ channel: ch.channel, err }, 'readable listener threw');
  }

  // --- PeerHost --------------------------------------------------------------------------------

  nextEpoch(): number {
    this.epoch = (this.epoch + 1) >>> 0 || 1;
    return this.epoch;
  }

  countOut(bytes: number, frames: number): void {
    this.counters.bytesOut += bytes;
    this.counters.framesOut += frames;
  }

  countIn(bytes: number): void {
    this.counters.bytesIn += bytes;
  }

  /** Counts and logs a dropped message (rate-limited per peer: PeerLogLimiter). */
  malformed(reason: string, details: Record<string, unknown>): void {
    const peer = details.sender ?? details.peer;
    this.malformedLog.report('error', typeof peer === 'string' ? peer : 'unknown', 'malformed message dropped', { ...details, reason });
  }

  peerEvent(event: TransportEvent, endpoint: string): void {
    if (!this.closed) this.events.emit(event, endpoint);
  }

  // --- receiving -------------------------------------------------------------------------------

  private async receiveLoop(router: Router): Promise<void> {
    for (;;) {
      let parts: Buffer[];
      try {
        parts = (await router.receive()) as Buffer[];
      } catch (e) {
        if (router.closed || this.closed) return;
        this.logger.error({ err: e }, 'zeromq receive failed');
        await delay(0);
        continue;
      }
      try {
        this.onMessage(parts);
      } catch (e) {
        const identity = parts.length > 0 ? parts[0].toString('hex') : undefined;
        this.malformed(e instanceof Error ? e.message : String(e), { sender: identity, socket: 'router' });
      }
    }
  }

  private onMessage(parts: Buffer[]): void {
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.counters.bytesIn += bytes;
    if (parts.length !== 4) throw new WireError(`expected 3 parts [type, channel, payload] after the routing id, got ${parts.length - 1}`);
    const [identity, typePart, channelPart, payload] = parts;
    if (typePart.length !== 1) throw new WireError(`type part must be 1 byte, got ${typePart.length}`);
    const type = typePart[0];
    switch (type) {
      case MSG_DATA:
        return this.onData(identity, readChannel(channelPart), payload);
      case MSG_OPEN:
        return this.onOpen(identity, readChannel(channelPart), payload);
      case MSG_PING:
        readU32(payload, 'PING');
        this.routerSend([identity, TYPE_PART[MSG_PONG], channelPart, payload]);
        return;
      default:
        throw new WireError(`unexpected message type ${MSG_NAMES[type] ?? `0x${type.toString(16).padStart(2, '0')}`} on the receiving socket`);
    }
  }

  private onOpen(identity: Buffer, channel: ChannelId, payload: Buffer): void {
    const [credits, epoch] = readU32Pair(payload, 'OPEN');
    if (credits < 1 || credits > this.maxCredits) throw new WireError(`OPEN of channel ${channel} announces ${credits} credits (allowed 1..${this.maxCredits})`);
    let ch = this.inbound.get(channel);
    if (ch === undefined) {
      if (this.inbound.size >= MAX_UNOPENED_CHANNELS) throw new WireError(`OPEN of channel ${channel} refused: ${this.inbound.size} channels already held`);
      ch = new InboundChannel(channel, this);
      this.inbound.set(channel, ch);
    }
    const previous = ch.session;
    if (previous !== undefined && previous.epoch === epoch && previous.peer.equals(identity)) return; // duplicate
    // Frames of an earlier session stay readable, but their credits go to no one: the sender of
    // the new session starts with full credits.
    ch.begin(Buffer.from(identity), epoch, credits);
    this.closedSessions.delete(sessionKey(identity, channel));
    ch.warnIfCreditsDisagree(this.logger);
  }

  private onData(identity: Buffer, channel: ChannelId, payload: Buffer): void {
    const ch = this.inbound.get(channel);
    const session = ch?.session;
    if (ch === undefined || session === undefined || !session.peer.equals(identity)) {
      if (this.closedSessions.has(sessionKey(identity, channel))) return; // in flight when the receiver closed
      throw new WireError(`DATA on channel ${channel} without an OPEN from this sender`);
    }
    if (ch.full) throw new WireError(`DATA on channel ${channel} exceeds its ${session.capacity} credits`);
    let frame;
    try {
      frame = this.codec.decode(payload);
      if (frame.channel !== channel) throw new WireError(`frame of channel ${frame.channel} arrived on channel ${channel}`);
    } catch (e) {
      // The sender spent a credit on it: give it back so the channel does not shrink.
      ch.refund();
      throw e;
    }
    this.counters.framesIn++;
    ch.deliver(frame);
  }

  private routerSend(parts: Buffer[]): void {
    const queue = this.routerQueue;
    if (queue === undefined) return;
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.counters.bytesOut += bytes;
    queue.push(parts);
  }

  private rememberClosed(identity: Buffer, channel: ChannelId): void {
    const key = sessionKey(identity, channel);
    this.closedSessions.delete(key);
    this.closedSessions.add(key);
    if (this.closedSessions.size > MAX_CLOSED_SESSIONS) {
      const oldest = this.closedSessions.values().next().value;
      if (oldest !== undefined) this.closedSessions.delete(oldest);
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const peer of this.peers.values()) peer.tick(now);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `zeromq transport ${this.endpoint} is closed`);
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', `zeromq transport ${this.endpoint} is not started: call start() first`);
  }
}

/** Factory form, for configuration-driven selection. */
export function createZmqTransport(options: ZmqTransportOptions = {}): ZmqTransport {
  return new ZmqTransport(options);
}

function sessionKey(identity: Buffer, channel: ChannelId): string {
  return `${identity.toString('latin1')}\0${channel}`;
}

function isEphemeral(address: string): boolean {
  return /^tcp:\/\/.*:(0|\*)$/.test(address);
}

/** Waits for `promise`, at most until `deadline`; leaves no timer behind. */
function untilDeadline(promise: Promise<void>, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
