import { TransportError, type ControlChannel } from '@mobius/interface';
import { Packr } from 'msgpackr';
import { Dealer } from 'zeromq';
import { SendQueue } from './send-queue.js';
import { PONG } from './control-wire.js';
import type { ZmqControlClientOptions } from './control-options.js';
import { ControlEndpoint } from './control-endpoint.js';

/**
 * A worker's side of the control channel: a DEALER whose routing id is the worker's id,
 * connected to the server. The `peer` argument of `request`/`push` is ignored: a client always
 * talks to its server (handlers see the server as `server`).
 */
export class ZmqControlClient extends ControlEndpoint implements ControlChannel {
  readonly id: string;
  readonly serverEndpoint: string;
  private readonly socket: Dealer;
  private started = false;
  private connected = false;
  private lost = false;
  private lastHeard = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private nonce = 0;
  private pingPending = false;
  private pingSentAt = 0;
  private readonly flushWaiters = new Map<number, (delivered: boolean) => void>();

  constructor(options: ZmqControlClientOptions) {
    super(options, 'control-client');
    const idBytes = Buffer.byteLength(options.id ?? '', 'utf8');
    if (typeof options.id !== 'string' || idBytes < 1 || idBytes > 255) {
      throw new TransportError('TRANSPORT_FAILED', `control client id must be 1..255 bytes, got ${JSON.stringify(options.id)}`);
    }
    this.id = options.id;
    this.serverEndpoint = options.serverEndpoint;
    const curve = options.curve;
    this.socket = new Dealer({
      routingId: options.id,
      maxMessageSize: this.maxMessageBytes,
      linger: this.closeTimeoutMs,
      sendHighWaterMark: 0,
      ...(curve === undefined ? {} : { curveServerKey: curve.serverPublicKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }),
    });
    this.queue = new SendQueue(this.socket, this.logger, 'control-dealer');
  }

  /** Connects to the server (messages sent before the connection exists are queued). */
  async start(): Promise<void> {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'control client is closed');
    if (this.started) return;
    this.started = true;
    this.lastHeard = Date.now();
    const events = this.socket.events;
    events.on('handshake', () => {
      this.connected = true;
      this.pingPending = false;
      this.hello('server'); // the server learns this client's id now, not at its first request
      this.heard(true);
    });
    events.on('disconnect', () => {
      if (!this.connected) return;
      this.connected = false;
      // Nothing queued reaches the server on this connection any more: stop waiting for it.
      const waiters = [...this.flushWaiters.values()];
      this.flushWaiters.clear();
      for (const w of waiters) w(false);
      this.markLost();
    });
    events.on('handshake:error:auth', (e) => this.logger.error({ event: e.type }, 'control server rejected the CURVE handshake'));
    events.on('handshake:error:protocol', (e) => this.logger.error({ event: e.type }, 'control handshake failed (check the CURVE keys)'));
    try {
      this.socket.connect(this.serverEndpoint);
    } catch (e) {
      throw new TransportError('TRANSPORT_FAILED', `cannot connect to ${this.serverEndpoint}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.timer = setInterval(() => this.tick(), Math.max(20, Math.floor(this.peerTimeoutMs / 4)));
    this.timer.unref();
    void this.loop();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.closeTimeoutMs;
    let flushed = false;
    if (this.started && !this.lost) {
      // A PING behind the queued messages: its PONG means they all reached the server. A client
      // still connecting waits until the deadline; a disconnect ends the wait at once.
      const nonce = ++this.nonce;
      flushed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.flushWaiters.delete(nonce);
          resolve(false);
        }, this.closeTimeoutMs);
        this.flushWaiters.set(nonce, (delivered) => {
          clearTimeout(timer);
          resolve(delivered);
        });
        this.ping('server', nonce);
      });
    }
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.rejectPending(
      () => true,
      () => new TransportError('TRANSPORT_CLOSED', 'control client closed'),
    );
    this.queue?.stop();
    this.socket.linger = flushed ? 0 : Math.max(0, deadline - Date.now());
    this.socket.close();
  }

  protected sendBody(_peer: string, body: Buffer, onFail?: (err: unknown) => void): void {
    if (!this.started) {
      onFail?.(new TransportError('TRANSPORT_FAILED', 'control client is not started: call start() first'));
      return;
    }
    this.queue!.push([body], onFail);
  }

  protected describePeer(_peer: string): string {
    return `server ${this.serverEndpoint}`;
  }

  protected seen(_peer: string, kind: number): void {
    if (kind === PONG) this.pingPending = false;
    this.heard(false);
  }

  private heard(fromHandshake: boolean): void {
    this.lastHeard = Date.now();
    if (this.lost && (fromHandshake || this.connected)) {
      this.lost = false;
      this.emitPeer('connected', 'server');
    } else if (fromHandshake && !this.lost) {
      this.emitPeer('connected', 'server');
    }
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.emitPeer('disconnected', 'server');
  }

  private tick(): void {
    const now = Date.now();
    // Silent for too long, or never connected within the timeout.
    if (!this.lost && now - this.lastHeard > this.peerTimeoutMs) this.markLost();
    if (this.connected && (!this.pingPending || now - this.pingSentAt > this.peerTimeoutMs / 2)) {
      this.pingPending = true;
      this.pingSentAt = now;
      this.ping('server', 0);
    }
  }

  private async loop(): Promise<void> {
    const socket = this.socket;
    for (;;) {
      let parts: Buffer[];
      try {
        parts = (await socket.receive()) as Buffer[];
      } catch (e) {
        if (socket.closed || this.closed) return;
        this.logger.error({ err: e }, 'control receive failed');
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (this.receive('server', parts, 0)) this.resolveFlush(parts);
    }
  }

  private resolveFlush(parts: Buffer[]): void {
    if (this.flushWaiters.size === 0) return;
    // Only PONGs resolve flush waiters; decoding again is cheap and happens only while closing.
    try {
      const [kind, id] = new Packr({ useRecords: false }).unpack(parts[0]) as [number, number];
      if (kind !== PONG) return;
      const w = this.flushWaiters.get(id);
      if (w !== undefined) {
        this.flushWaiters.delete(id);
        w(true);
      }
    } catch {
      // already counted by receive()
    }
  }
}
