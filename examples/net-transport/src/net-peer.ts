import { connect, type Socket } from 'node:net';
import { TransportError, type ChannelId, type Frame, type Logger, type TransportEvent } from '@mobius/interface';
import { CreditSender } from '@mobius/plugin-kit';
import { endSocket } from './end-socket.js';
import type { NetSettings } from './net-options.js';
import { MSG_CLOSE, MSG_CREDIT, MSG_DATA, MSG_NAMES, MSG_OPEN, MessageReader, WireError, channelOf, encodeMessage, fromFrame, parsePayload, uint, type RawMessage } from './wire.js';

/** What a peer needs from its transport. */
export interface PeerHost {
  readonly logger: Logger;
  readonly settings: NetSettings;
  nextEpoch(): number;
  countOut(bytes: number, frames: number): void;
  malformed(reason: string, details: Record<string, unknown>): void;
  peerEvent(event: TransportEvent, endpoint: string): void;
  readStream(reader: MessageReader, chunk: Buffer, socket: Socket, handle: (m: RawMessage) => void, details: Record<string, unknown>): void;
}

export const EPOCH_LIMIT = 0xffff_ffff;

/**
 * The one outgoing TCP connection of a transport to one target endpoint, shared by every
 * channel sent there (so a channel's frames keep their order: one TCP stream). Reconnects with
 * backoff after a loss and re-opens its channels.
 */
export class Peer {
  readonly senders = new Map<ChannelId, NetSender>();
  private socket: Socket | undefined;
  private connected = false;
  /** A connection was up at least once: from then on a new connection re-opens the channels. */
  private established = false;
  private lost = false;
  /** Messages written before the first connection is up (the channel credits bound them). */
  private pending: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private backoff: number;
  private closed = false;

  constructor(
    readonly host: PeerHost,
    readonly endpoint: string,
    private readonly address: { host: string; port: number },
  ) {
    this.backoff = host.settings.reconnectMinMs;
    this.connect();
  }

  send(message: Buffer, frames = 0): void {
    this.host.countOut(message.length, frames);
    if (this.connected) this.socket!.write(message);
    // After a loss, messages would be dropped anyway: the reconnection re-opens every channel.
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
    // A connected socket is ended after its queued bytes; one still connecting has nobody to flush to.
    if (this.socket !== undefined) await endSocket(this.socket, deadline, this.connected);
  }

  private connect(): void {
    this.timer = undefined;
    if (this.closed) return;
    const socket = connect(this.address);
    socket.setNoDelay(true);
    const reader = new MessageReader(this.host.settings.maxMessageBytes);
    this.socket = socket;
    socket.on('connect', () => this.onConnect(socket));
    socket.on('data', (chunk: Buffer) => this.host.readStream(reader, chunk, socket, (m) => this.onMessage(m), { peer: this.endpoint }));
    socket.on('error', (err) => this.host.logger.debug({ peer: this.endpoint, err }, 'connection to peer failed'));
    socket.on('close', () => this.onClose(socket));
  }

  private onConnect(socket: Socket): void {
    if (this.socket !== socket || this.closed) return;
    this.connected = true;
    this.backoff = this.host.settings.reconnectMinMs;
    if (this.established) {
      // Frames in flight on the old connection may be lost, and with them their credits: every
      // channel starts a new epoch with full credits and announces it with a new OPEN.
      for (const s of [...this.senders.values()]) s.reopen(this.host.nextEpoch());
    } else {
      this.established = true;
      for (const m of this.pending) socket.write(m);
      this.pending = [];
    }
    if (this.lost) {
      this.lost = false;
      this.host.logger.info({ peer: this.endpoint }, 'peer reconnected');
      this.host.peerEvent('peer-reconnected', this.endpoint);
    }
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.connected = false;
    if (this.closed) return;
    if (!this.lost) {
      this.lost = true;
      this.host.logger.warn({ peer: this.endpoint }, 'peer lost');
      this.host.peerEvent('peer-lost', this.endpoint);
    }
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, this.host.settings.reconnectMaxMs);
  }

  /** CREDIT and CLOSE from the receiver; those of a closed sender or an earlier epoch are ignored. */
  private onMessage(message: RawMessage): void {
    const type = message.type;
    if (type !== MSG_CREDIT && type !== MSG_CLOSE) {
      throw new WireError(`unexpected message type ${MSG_NAMES[type] ?? `0x${type.toString(16).padStart(2, '0')}`} on an outgoing connection`);
    }
    const what = MSG_NAMES[type];
    const o = parsePayload(message.payload, what);
    const channel = channelOf(o, what);
    const count = type === MSG_CREDIT ? uint(o, 'count', what, 1) : 0;
    const epoch = uint(o, 'epoch', what, 1, EPOCH_LIMIT);
    const sender = this.senders.get(channel);
    if (sender === undefined || sender.epoch !== epoch) return;
    if (type === MSG_CLOSE) {
      this.host.logger.debug({ channel, peer: this.endpoint }, 'receiver closed the channel');
      sender.closeLocally();
    } else if (!sender.grant(count)) {
      this.host.malformed(`CREDIT of ${count} would exceed the ${sender.capacity} credits of channel ${channel}`, { peer: this.endpoint });
    }
  }
}

/** The sending end of a channel: the kit's credit sender, writing DATA messages to its peer. */
export class NetSender extends CreditSender {
  constructor(
    private readonly peer: Peer,
    channel: ChannelId,
    capacity: number,
  ) {
    super(channel, capacity, peer.host.nextEpoch());
  }

  protected override transmit(frame: Frame): void {
    let message: Buffer;
    try {
      message = encodeMessage(MSG_DATA, fromFrame(frame), this.peer.host.settings.maxMessageBytes);
    } catch (e) {
      throw new TransportError('FRAME_MALFORMED', `channel ${this.channel}: cannot encode frame: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.peer.send(message, 1);
  }

  protected override onClosed(): void {
    this.peer.forget(this);
  }

  /** A new epoch (after a reconnection) is announced with a new OPEN. */
  protected override announce(): void {
    this.peer.open(this);
  }
}
