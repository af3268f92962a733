import { TransportError, type ChannelId, type Codec, type Frame, type Logger } from '@mobius/interface';
import { CreditSender } from '@mobius/plugin-kit';
import { Dealer } from 'zeromq';
import { SendQueue } from './send-queue.js';
import {
  EMPTY,
  MSG_CLOSE,
  MSG_CREDIT,
  MSG_DATA,
  MSG_NAMES,
  MSG_OPEN,
  MSG_PING,
  MSG_PONG,
  TYPE_PART,
  WireError,
  readChannel,
  readU32,
  readU32Pair,
  u32,
  u32Pair,
} from './wire.js';

/** What a peer needs from its transport. */
export interface PeerHost {
  readonly codec: Codec;
  readonly logger: Logger;
  readonly peerTimeoutMs: number;
  nextEpoch(): number;
  countOut(bytes: number, frames: number): void;
  countIn(bytes: number): void;
  malformed(reason: string, details: Record<string, unknown>): void;
  peerEvent(event: 'peer-lost' | 'peer-reconnected', endpoint: string): void;
}

export interface DealerOptions {
  routingId: string;
  maxMessageSize: number;
  /** Linger of the socket until `close()` sets it: bounds how long process exit may wait. */
  linger: number;
  curve?: { publicKey: string; secretKey: string; serverPublicKey: string };
}

/**
 * One DEALER connected to one target endpoint, shared by every channel this transport sends to
 * that endpoint. Tracks liveness (monitor events and PING/PONG) and routes CREDIT/CLOSE back to
 * the channel senders.
 */
export class Peer {
  readonly socket: Dealer;
  readonly queue: SendQueue;
  readonly senders = new Map<ChannelId, ZmqSender>();
  /** Successful ZMTP handshakes so far; from the second on, channels are re-opened. */
  private handshakes = 0;
  private connected = false;
  private lost = false;
  private lostReason: 'timeout' | 'disconnect' = 'timeout';
  private lastHeard = Date.now();
  private pingPending = false;
  private pingSentAt = 0;
  private nonce = 0;
  private readonly flushWaiters = new Map<number, (delivered: boolean) => void>();
  private closed = false;

  constructor(
    private readonly host: PeerHost,
    readonly endpoint: string,
    options: DealerOptions,
  ) {
    const curve = options.curve;
    this.socket = new Dealer({
      routingId: options.routingId,
      sendHighWaterMark: 0, // bounded by channel credits
      maxMessageSize: options.maxMessageSize,
      linger: options.linger,
      ...(curve === undefined ? {} : { curveServerKey: curve.serverPublicKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }),
    });
    this.queue = new SendQueue(this.socket, host.logger, `dealer→${endpoint}`);
    const events = this.socket.events;
    events.on('handshake', () => this.onHandshake());
    events.on('disconnect', () => this.onDisconnect());
    const authFailed = (e: { type: string; error?: Error }): void => {
      host.logger.error({ peer: endpoint, event: e.type, err: e.error }, 'zeromq handshake with peer failed (check the CURVE keys)');
    };
    events.on('handshake:error:auth', authFailed);
    events.on('handshake:error:protocol', authFailed);
    events.on('handshake:error:other', authFailed);
    try {
      this.socket.connect(endpoint);
    } catch (e) {
      this.socket.close();
      throw new TransportError('TRANSPORT_FAILED', `cannot connect to ${endpoint}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    void this.receiveLoop();
  }

  /** Queues one message; counts its bytes. */
  send(parts: Buffer[], frames = 0): void {
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.host.countOut(bytes, frames);
    this.queue.push(parts);
  }

  open(sender: ZmqSender): void {
    const previous = this.senders.get(sender.channel);
    if (previous !== undefined && previous !== sender) previous.closeLocally();
    this.senders.set(sender.channel, sender);
    this.send([TYPE_PART[MSG_OPEN], sender.idPart, u32Pair(sender.capacity, sender.epoch)]);
  }

  forget(sender: ZmqSender): void {
    if (this.senders.get(sender.channel) === sender) this.senders.delete(sender.channel);
  }

  /** Periodic liveness check, driven by the transport's timer. */
  tick(now: number): void {
    if (this.closed) return;
    if (!this.lost && now - this.lastHeard > this.host.peerTimeoutMs) this.markLost('timeout');
    if (this.connected && (!this.pingPending || now - this.pingSentAt > this.host.peerTimeoutMs)) {
      this.pingPending = true;
      this.pingSentAt = now;
      this.send([TYPE_PART[MSG_PING], EMPTY, u32(++this.nonce)]);
    }
  }

  /**
   * Resolves true once every message queued before the call reached the peer's transport (a
   * PING/PONG round trip behind them); false if the peer is lost, disconnects, or the deadline
   * passes. A peer still connecting gets until the deadline: its messages may yet go out.
   */
  flush(deadline: number): Promise<boolean> {
    if (this.lost || this.closed) return Promise.resolve(false);
    const nonce = ++this.nonce;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.flushWaiters.delete(nonce);
        resolve(false);
      }, Math.max(0, deadline - Date.now()));
      this.flushWaiters.set(nonce, (delivered) => {
        clearTimeout(timer);
        resolve(delivered);
      });
      this.send([TYPE_PART[MSG_PING], EMPTY, u32(nonce)]);
    });
  }

  close(linger: number): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.senders.values()]) s.closeLocally();
    this.senders.clear();
    this.endFlushes(false);
    this.socket.linger = Math.max(0, Math.round(linger));
    this.socket.close();
  }

  private onHandshake(): void {
    if (this.closed) return;
    this.connected = true;
    this.handshakes++;
    this.pingPending = false;
    // After a reconnect, messages in flight on the old connection may be lost: start a new
    // credit epoch on every open channel so both ends agree again.
    if (this.handshakes > 1) for (const s of this.senders.values()) s.reopen(this.host.nextEpoch());
    this.alive(true);
  }

  private onDisconnect(): void {
    if (this.closed || !this.connected) return;
    this.connected = false;
    this.pingPending = false;
    this.endFlushes(false); // nothing more reaches that peer on this connection
    this.markLost('disconnect');
  }

  private endFlushes(delivered: boolean): void {
    if (this.flushWaiters.size === 0) return;
    const waiters = [...this.flushWaiters.values()];
    this.flushWaiters.clear();
    for (const w of waiters) w(delivered);
  }

  private alive(fromHandshake: boolean): void {
    this.lastHeard = Date.now();
    if (!this.lost) return;
    if (fromHandshake || (this.lostReason === 'timeout' && this.connected)) {
      this.lost = false;
      this.host.peerEvent('peer-reconnected', this.endpoint);
    }
  }

  private markLost(reason: 'timeout' | 'disconnect'): void {
    if (this.lost) return;
    this.lost = true;
    this.lostReason = reason;
    this.endFlushes(false);
    this.host.logger.warn({ peer: this.endpoint, reason }, 'zeromq peer lost');
    this.host.peerEvent('peer-lost', this.endpoint);
  }

  private async receiveLoop(): Promise<void> {
    const socket = this.socket;
    for (;;) {
      let parts: Buffer[];
      try {
        parts = (await socket.receive()) as Buffer[];
      } catch (e) {
        if (socket.closed || this.closed) return;
        this.host.logger.error({ err: e, peer: this.endpoint }, 'zeromq receive failed');
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      try {
        this.onMessage(parts);
      } catch (e) {
        this.host.malformed(e instanceof Error ? e.message : String(e), { peer: this.endpoint, socket: 'dealer' });
      }
    }
  }

  private onMessage(parts: Buffer[]): void {
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.host.countIn(bytes);
    if (parts.length !== 3) throw new WireError(`expected 3 parts [type, channel, payload], got ${parts.length}`);
    const [typePart, channelPart, payload] = parts;
    if (typePart.length !== 1) throw new WireError(`type part must be 1 byte, got ${typePart.length}`);
    const type = typePart[0];
    switch (type) {
      case MSG_CREDIT: {
        const channel = readChannel(channelPart);
        const [count, epoch] = readU32Pair(payload, 'CREDIT');
        this.alive(false);
        const sender = this.senders.get(channel);
        if (sender === undefined || sender.epoch !== epoch) return; // closed sender or earlier epoch
        if (!sender.grant(count)) {
          this.host.malformed(`CREDIT of ${count} would exceed the ${sender.capacity} credits of channel ${channel}`, { peer: this.endpoint });
        }
        return;
      }
      case MSG_CLOSE: {
        const channel = readChannel(channelPart);
        const epoch = readU32(payload, 'CLOSE');
        this.alive(false);
        const sender = this.senders.get(channel);
        if (sender === undefined || sender.epoch !== epoch) return;
        sender.closeRemotely();
        return;
      }
      case MSG_PONG: {
        const nonce = readU32(payload, 'PONG');
        this.pingPending = false;
        this.alive(false);
        const waiter = this.flushWaiters.get(nonce);
        if (waiter !== undefined) {
          this.flushWaiters.delete(nonce);
          waiter(true);
        }
        return;
      }
      default:
        throw new WireError(`unexpected message type ${MSG_NAMES[type] ?? `0x${type.toString(16)}`} on a sending socket`);
    }
  }
}

/** The sending end of one channel: the kit's credit sender, refilled by CREDIT messages. */
export class ZmqSender extends CreditSender {
  readonly idPart: Buffer;

  constructor(
    private readonly peer: Peer,
    private readonly host: PeerHost,
    channel: ChannelId,
    capacity: number,
  ) {
    super(channel, capacity, host.nextEpoch());
    this.idPart = Buffer.from(channel, 'utf8');
  }

  protected override transmit(frame: Frame): void {
    this.peer.send([TYPE_PART[MSG_DATA], this.idPart, this.host.codec.encode(frame) as Buffer], 1);
  }

  /** Frames already sent still go out; the channel stays open on the receiving side. */
  protected override onClosed(): void {
    this.peer.forget(this);
  }

  /** A new credit epoch (after a reconnect) is announced with a new OPEN. */
  protected override announce(): void {
    this.peer.open(this);
  }

  closeRemotely(): void {
    this.host.logger.debug({ channel: this.channel, peer: this.peer.endpoint }, 'receiver closed the channel');
    this.closeLocally();
  }
}
