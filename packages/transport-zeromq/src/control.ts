import { TransportError, silentLogger, type ControlChannel, type ControlMessage, type Logger } from '@mobius/interface';
import { Packr } from 'msgpackr';
import { Dealer, Router } from 'zeromq';
import { SendQueue } from './send-queue.js';

/**
 * Control wire format: one ZeroMQ frame per message (after the ROUTER's routing id), holding the
 * msgpack array `[kind, correlationId, message]`.
 */
const HELLO = 1;
const REQUEST = 2;
const REPLY = 3;
const PUSH = 4;
const PING = 5;
const PONG = 6;
const KIND_NAMES = ['?', 'HELLO', 'REQUEST', 'REPLY', 'PUSH', 'PING', 'PONG'];

/** Events of a control endpoint about its peers. */
export type ControlPeerEvent = 'connected' | 'disconnected';

/** Counters of a control endpoint. */
export interface ControlStats {
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Messages dropped because they were malformed. */
  readonly malformed: number;
}

interface CommonOptions {
  /** Structured logger. Default: silent. */
  readonly logger?: Logger;
  /** A peer silent for this long counts as disconnected. Default 2000. */
  readonly peerTimeoutMs?: number;
  /** Default timeout of `request()`. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Longest time `close()` waits for queued messages to reach the peer. Default 2000. */
  readonly closeTimeoutMs?: number;
  /** Largest message accepted, in bytes. Default 256 MiB. */
  readonly maxMessageBytes?: number;
}

/** Options of {@link ZmqControlServer}. */
export interface ZmqControlServerOptions extends CommonOptions {
  /** Endpoint to bind, e.g. `tcp://127.0.0.1:6123`. Default `tcp://127.0.0.1:0` (ephemeral port). */
  readonly endpoint?: string;
  /** CurveZMQ server keys: clients must know `publicKey`. */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
}

/** Options of {@link ZmqControlClient}. */
export interface ZmqControlClientOptions extends CommonOptions {
  /** This client's id: its routing id, the `from` the server sees. 1..255 bytes. */
  readonly id: string;
  /** The server's endpoint. */
  readonly serverEndpoint: string;
  /** CurveZMQ client keys and the server's public key. */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string; readonly serverPublicKey: string };
}

type RequestHandler = (from: string, message: ControlMessage) => ControlMessage | Promise<ControlMessage>;
type PushHandler = (from: string, message: ControlMessage) => void;

interface Pending {
  resolve(message: ControlMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  peer: string;
}

class MalformedControl extends Error {}

/** What the server and the client share: encoding, correlation, dispatch, counters. */
abstract class ControlEndpoint implements ControlChannel {
  protected readonly logger: Logger;
  protected readonly peerTimeoutMs: number;
  protected readonly requestTimeoutMs: number;
  protected readonly closeTimeoutMs: number;
  protected readonly maxMessageBytes: number;
  protected queue: SendQueue | undefined;
  protected closed = false;
  private readonly packr = new Packr({ useRecords: false, useBigIntExtension: true });
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private requestHandler: RequestHandler | undefined;
  private pushHandler: PushHandler | undefined;
  private readonly peerListeners = new Map<ControlPeerEvent, ((peer: string) => void)[]>();
  private counters = { messagesIn: 0, messagesOut: 0, malformed: 0 };

  protected constructor(options: CommonOptions, component: string) {
    this.logger = (options.logger ?? silentLogger).child({ component });
    this.peerTimeoutMs = options.peerTimeoutMs ?? 2000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.maxMessageBytes = options.maxMessageBytes ?? 256 * 1024 * 1024;
  }

  /** Sends `body` to `peer` (the server's client id; ignored by the client). */
  protected abstract sendBody(peer: string, body: Buffer, onFail?: (err: unknown) => void): void;
  protected abstract describePeer(peer: string): string;

  stats(): ControlStats {
    return { ...this.counters };
  }

  request(peer: string, message: ControlMessage, timeoutMs: number = this.requestTimeoutMs): Promise<ControlMessage> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'control channel is closed'));
    const id = (this.nextId = (this.nextId + 1) % Number.MAX_SAFE_INTEGER || 1);
    let body: Buffer;
    try {
      body = this.encode(REQUEST, id, message);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<ControlMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TransportError('TRANSPORT_FAILED', `control request ${message.type} to ${this.describePeer(peer)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, peer });
      this.sendBody(peer, body, (err) => this.failRequest(id, err));
    });
  }

  push(peer: string, message: ControlMessage): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'control channel is closed');
    const body = this.encode(PUSH, 0, message);
    this.sendBody(peer, body, (err) => {
      this.logger.warn({ peer: this.describePeer(peer), type: message.type, err }, 'control push not delivered');
    });
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onPush(handler: PushHandler): void {
    this.pushHandler = handler;
  }

  /** `connected` when a peer appears (or comes back), `disconnected` when it goes away. */
  onPeer(event: ControlPeerEvent, listener: (peer: string) => void): void {
    const list = this.peerListeners.get(event) ?? [];
    list.push(listener);
    this.peerListeners.set(event, list);
  }

  protected emitPeer(event: ControlPeerEvent, peer: string): void {
    if (this.closed) return;
    for (const l of this.peerListeners.get(event) ?? []) {
      try {
        l(peer);
      } catch (e) {
        this.logger.error({ err: e, event, peer }, 'control peer listener threw');
      }
    }
  }

  protected encode(kind: number, id: number, message: ControlMessage | null): Buffer {
    if (kind !== PING && kind !== PONG && kind !== HELLO && !isMessage(message)) {
      throw new TransportError('FRAME_MALFORMED', 'a control message must be an object with a string `type`');
    }
    try {
      const body = this.packr.pack([kind, id, message]);
      this.counters.messagesOut++;
      return body;
    } catch (e) {
      throw new TransportError('FRAME_MALFORMED', `control message cannot be encoded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** Handles one received body from `peer`; never throws. Returns false when it was malformed. */
  protected receive(peer: string, parts: Buffer[], bodyIndex: number): boolean {
    this.counters.messagesIn++;
    try {
      if (parts.length !== bodyIndex + 1) throw new MalformedControl(`expected ${bodyIndex + 1} parts, got ${parts.length}`);
      let value: unknown;
      try {
        value = this.packr.unpack(parts[bodyIndex]);
      } catch (e) {
        throw new MalformedControl(`bad msgpack: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!Array.isArray(value) || value.length !== 3) throw new MalformedControl('expected [kind, id, message]');
      const [kind, id, message] = value as [unknown, unknown, unknown];
      if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < HELLO || kind > PONG) throw new MalformedControl(`unknown kind ${String(kind)}`);
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new MalformedControl('correlation id must be a non-negative integer');
      if ((kind === REQUEST || kind === REPLY || kind === PUSH) && !isMessage(message)) {
        throw new MalformedControl(`${KIND_NAMES[kind]} needs a message object with a string type`);
      }
      this.seen(peer, kind);
      switch (kind) {
        case REQUEST:
          void this.answer(peer, id, message as ControlMessage);
          break;
        case REPLY: {
          const p = this.pending.get(id);
          if (p === undefined) {
            this.logger.debug({ peer, id }, 'late or unknown control reply dropped');
            break;
          }
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.resolve(message as ControlMessage);
          break;
        }
        case PUSH:
          if (this.pushHandler === undefined) {
            this.logger.warn({ peer, type: (message as ControlMessage).type }, 'control push dropped: no push handler');
            break;
          }
          try {
            this.pushHandler(peer, message as ControlMessage);
          } catch (e) {
            this.logger.error({ peer, err: e, type: (message as ControlMessage).type }, 'control push handler threw');
          }
          break;
        case PING:
          this.sendBody(peer, this.encode(PONG, id, null));
          break;
        default:
          break; // HELLO and PONG only refresh liveness (seen)
      }
      return true;
    } catch (e) {
      this.counters.malformed++;
      this.logger.error({ peer, reason: e instanceof Error ? e.message : String(e) }, 'malformed control message dropped');
      return false;
    }
  }

  /** Called for every well-formed message from `peer`. */
  protected abstract seen(peer: string, kind: number): void;

  protected rejectPending(filter: (p: Pending) => boolean, err: () => Error): void {
    for (const [id, p] of this.pending) {
      if (!filter(p)) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err());
    }
  }

  protected ping(peer: string, id: number): void {
    this.sendBody(peer, this.encode(PING, id, null));
  }

  protected hello(peer: string): void {
    this.sendBody(peer, this.encode(HELLO, 0, null));
  }

  private failRequest(id: number, err: unknown): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const code = (err as { code?: string }).code;
    p.reject(
      code === 'EHOSTUNREACH'
        ? new TransportError('TRANSPORT_PEER_LOST', `control peer ${this.describePeer(p.peer)} is not connected`, { cause: err })
        : new TransportError(this.closed ? 'TRANSPORT_CLOSED' : 'TRANSPORT_FAILED', `control request to ${this.describePeer(p.peer)} failed: ${String(err)}`, { cause: err }),
    );
  }

  private async answer(peer: string, id: number, message: ControlMessage): Promise<void> {
    let reply: ControlMessage;
    const handler = this.requestHandler;
    if (handler === undefined) {
      reply = { type: 'error', code: 'NO_HANDLER', message: `no request handler for ${message.type}` };
    } else {
      try {
        reply = await handler(peer, message);
        if (!isMessage(reply)) reply = { type: 'error', code: 'BAD_REPLY', message: `the handler of ${message.type} returned no message` };
      } catch (e) {
        const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'HANDLER_FAILED';
        reply = { type: 'error', code, message: e instanceof Error ? e.message : String(e) };
      }
    }
    if (this.closed) return;
    let body: Buffer;
    try {
      body = this.encode(REPLY, id, reply);
    } catch (e) {
      body = this.encode(REPLY, id, { type: 'error', code: 'BAD_REPLY', message: e instanceof Error ? e.message : String(e) });
    }
    this.sendBody(peer, body, (err) => this.logger.warn({ peer, id, err }, 'control reply not delivered'));
  }
}

/**
 * The coordinator's side of the control channel: a ROUTER bound at `endpoint`. Each client is
 * addressed by its id (its routing id).
 */
export class ZmqControlServer extends ControlEndpoint implements ControlChannel {
  private readonly bindAddress: string;
  private readonly curve: ZmqControlServerOptions['curve'];
  private router: Router | undefined;
  private bound: string | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly clients = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly probes = new Set<NodeJS.Timeout>();
  private nonce = 0;

  constructor(options: ZmqControlServerOptions = {}) {
    super(options, 'control-server');
    this.bindAddress = options.endpoint ?? 'tcp://127.0.0.1:0';
    this.curve = options.curve;
  }

  get endpoint(): string {
    return this.bound ?? this.bindAddress;
  }

  /** Ids of the clients currently connected. */
  peers(): string[] {
    return [...this.clients.keys()];
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'control server is closed'));
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<void> {
    const curve = this.curve;
    const router = new Router({
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: 0,
      handover: true, // a restarted worker with the same id takes over
      maxMessageSize: this.maxMessageBytes,
      linger: this.closeTimeoutMs,
      ...(curve === undefined ? {} : { curveServer: true, curveSecretKey: curve.secretKey, curvePublicKey: curve.publicKey }),
    });
    const deadline = Date.now() + 2000;
    for (;;) {
      try {
        await router.bind(this.bindAddress);
        break;
      } catch (e) {
        if ((e as { code?: string }).code === 'EADDRINUSE' && Date.now() < deadline && !/:(0|\*)$/.test(this.bindAddress)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        router.close();
        this.starting = undefined;
        throw new TransportError('TRANSPORT_FAILED', `cannot bind control server at ${this.bindAddress}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    this.router = router;
    this.bound = (router.lastEndpoint ?? this.bindAddress).replace('://0.0.0.0:', '://127.0.0.1:');
    this.queue = new SendQueue(router, this.logger, 'control-router');
    // A connection went away: find out whose by probing every known client (a send to a gone
    // routing id fails at once with EHOSTUNREACH, because the ROUTER is mandatory).
    router.events.on('disconnect', () => this.probeSoon());
    router.events.on('handshake:error:auth', (e) => this.logger.warn({ event: e.type }, 'control client failed CURVE authentication'));
    this.timer = setInterval(() => this.tick(), Math.max(20, Math.floor(this.peerTimeoutMs / 4)));
    this.timer.unref();
    void this.loop(router);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const t of this.probes) clearTimeout(t);
    this.probes.clear();
    this.rejectPending(
      () => true,
      () => new TransportError('TRANSPORT_CLOSED', 'control server closed'),
    );
    const deadline = Date.now() + this.closeTimeoutMs;
    if (this.queue !== undefined) await untilDeadline(this.queue.idle(), deadline);
    this.queue?.stop();
    if (this.router !== undefined) {
      this.router.linger = Math.min(200, Math.max(0, deadline - Date.now()));
      this.router.close();
    }
    this.clients.clear();
  }

  protected sendBody(peer: string, body: Buffer, onFail?: (err: unknown) => void): void {
    if (this.queue === undefined) {
      onFail?.(new TransportError('TRANSPORT_FAILED', 'control server is not started: call start() first'));
      return;
    }
    this.queue.push([Buffer.from(peer, 'utf8'), body], (err) => {
      if ((err as { code?: string }).code === 'EHOSTUNREACH') this.gone(peer);
      if (onFail !== undefined) onFail(err);
      else this.logger.debug({ peer, err }, 'control message not delivered');
    });
  }

  protected describePeer(peer: string): string {
    return `client ${peer}`;
  }

  protected seen(peer: string, _kind: number): void {
    const known = this.clients.has(peer);
    this.clients.set(peer, Date.now());
    if (!known) this.emitPeer('connected', peer);
  }

  private gone(peer: string): void {
    if (!this.clients.delete(peer)) return;
    this.rejectPending(
      (p) => p.peer === peer,
      () => new TransportError('TRANSPORT_PEER_LOST', `control client ${peer} disconnected`),
    );
    this.emitPeer('disconnected', peer);
  }

  private probeAll(): void {
    if (this.closed) return;
    for (const peer of this.clients.keys()) this.ping(peer, ++this.nonce);
  }

  /**
   * Probes now and twice more shortly after: the monitor event may come before ZeroMQ has
   * removed the routing id of the connection that went away.
   */
  private probeSoon(): void {
    this.probeAll();
    for (const ms of [20, 100, 300]) {
      const t = setTimeout(() => {
        this.probes.delete(t);
        this.probeAll();
      }, ms);
      t.unref();
      this.probes.add(t);
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const [peer, last] of this.clients) if (now - last > this.peerTimeoutMs) this.gone(peer);
  }

  private async loop(router: Router): Promise<void> {
    for (;;) {
      let parts: Buffer[];
      try {
        parts = (await router.receive()) as Buffer[];
      } catch (e) {
        if (router.closed || this.closed) return;
        this.logger.error({ err: e }, 'control receive failed');
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const peer = parts[0]?.toString('utf8') ?? '';
      this.receive(peer, parts, 1);
    }
  }
}

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

function isMessage(v: unknown): v is ControlMessage {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string';
}

function untilDeadline(promise: Promise<void>, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
