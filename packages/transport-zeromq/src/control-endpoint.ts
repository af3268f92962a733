import { TransportError, silentLogger, type ControlChannel, type ControlMessage, type Logger } from '@mobius/interface';
import { Packr } from 'msgpackr';
import { PeerLogLimiter } from '@mobius/plugin-kit';
import { SendQueue } from './send-queue.js';
import { HELLO, REQUEST, REPLY, PUSH, PING, PONG, KIND_NAMES, MalformedControl, isMessage } from './control-wire.js';
import type { ControlPeerEvent, ControlStats, CommonOptions } from './control-options.js';

export type RequestHandler = (from: string, message: ControlMessage) => ControlMessage | Promise<ControlMessage>;
export type PushHandler = (from: string, message: ControlMessage) => void;

export interface Pending {
  resolve(message: ControlMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  peer: string;
}

/** What the server and the client share: encoding, correlation, dispatch, counters. */
export abstract class ControlEndpoint implements ControlChannel {
  protected readonly logger: Logger;
  /** Errors a peer's input causes: rate-limited per peer, so random bytes cannot flood the log. */
  protected readonly peerLog: PeerLogLimiter;
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
    this.peerLog = new PeerLogLimiter(this.logger);
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
      this.peerLog.report('warn', this.describePeer(peer), 'control push not delivered', { type: message.type, err });
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
            this.peerLog.report('warn', peer, 'control push dropped: no push handler', { type: (message as ControlMessage).type });
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
      this.peerLog.report('error', peer, 'malformed control message dropped', { reason: e instanceof Error ? e.message : String(e) });
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
    this.sendBody(peer, body, (err) => this.peerLog.report('warn', peer, 'control reply not delivered', { id, err }));
  }
}

export function untilDeadline(promise: Promise<void>, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
