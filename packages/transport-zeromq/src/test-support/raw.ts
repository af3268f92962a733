import { connect } from 'node:net';
import { Dealer } from 'zeromq';

/** Test helper: a logger that records what was logged at each level. */
export function recordingLogger(): {
  logger: import('@mobius/interface').Logger;
  errors: { obj: object; msg?: string }[];
  warns: { obj: object; msg?: string }[];
} {
  const errors: { obj: object; msg?: string }[] = [];
  const warns: { obj: object; msg?: string }[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (obj: object, msg?: string) => void warns.push({ obj, msg }),
    error: (obj: object, msg?: string) => void errors.push({ obj, msg }),
    child: () => logger,
  };
  return { logger, errors, warns };
}

const PING = Buffer.from([0x05]);
const PONG = 0x06;

/**
 * Sends multipart garbage derived from `bytes` to a transport's ROUTER through a raw DEALER,
 * then a PING: its PONG proves the garbage before it was processed (one connection, in order).
 */
export async function sendRawDealer(endpoint: string, bytes: Uint8Array, timeoutMs = 5000): Promise<void> {
  const dealer = new Dealer({ routingId: `raw-${process.pid}-${Math.random().toString(36).slice(2)}`, linger: 0, receiveTimeout: timeoutMs });
  dealer.connect(endpoint);
  try {
    const b = Buffer.from(bytes);
    const opened = Buffer.alloc(8);
    opened.writeUInt32BE(1, 0);
    opened.writeUInt32BE(1, 4);
    const messages: Buffer[][] = [
      [b], // one part only
      [b, b, b, b], // too many parts
      [Buffer.from([0xee]), Buffer.from('raw-channel'), b], // unknown type byte
      [Buffer.from([0x02, 0x02]), Buffer.from('raw-channel'), b], // type part of 2 bytes
      [Buffer.from([0x02]), Buffer.from('raw-channel'), b], // DATA without OPEN
      [Buffer.from([0x01]), Buffer.from('raw-channel'), b], // OPEN with a bad payload (unless 8 bytes)
      [Buffer.from([0x01]), Buffer.alloc(0), opened], // OPEN without a channel
      [Buffer.from([0x01]), Buffer.from([0xff, 0xfe]), opened], // channel id that is not utf8
      [Buffer.from([0x03]), Buffer.from('raw-channel'), opened], // CREDIT sent to a receiver
      [Buffer.from([0x01]), Buffer.from('raw-opened'), opened], // a valid OPEN with 1 credit ...
      [Buffer.from([0x02]), Buffer.from('raw-opened'), b], // ... then DATA that is not a frame
      [Buffer.from([0x02]), Buffer.from('raw-opened'), b], // ... and again
      [Buffer.from([0x02]), Buffer.from('raw-opened'), b], // ... and again
      [PING, Buffer.alloc(0), Buffer.from('x')], // PING with a bad nonce
    ];
    for (const m of messages) await dealer.send(m);
    await dealer.send([PING, Buffer.alloc(0), Buffer.from([0, 0, 0, 42])]);
    for (;;) {
      const reply = (await dealer.receive()) as Buffer[];
      if (reply[0]?.[0] === PONG && reply[2]?.readUInt32BE(0) === 42) break;
    }
  } finally {
    dealer.close();
  }
}

/**
 * Writes `bytes` to the endpoint's TCP port with a plain socket (no ZMTP handshake), then ends
 * the connection and waits until it is closed.
 */
export function sendRawTcp(endpoint: string, bytes: Uint8Array, timeoutMs = 5000): Promise<void> {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (m === null) return Promise.resolve();
  const host = m[1].replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  return new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw TCP connection to ${endpoint} did not close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', () => undefined); // a reset by the peer is fine
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => {
      socket.end(bytes.length > 0 ? Buffer.from(bytes) : Buffer.from([0]));
    });
    socket.resume();
  });
}

/** A DEALER speaking the data-plane protocol by hand, for wire-level tests. */
export class RawPeer {
  readonly socket: Dealer;
  private received: Buffer[][] = [];
  private waiters: (() => void)[] = [];

  constructor(endpoint: string, options: { routingId?: string; curveServerKey?: string; curvePublicKey?: string; curveSecretKey?: string } = {}) {
    this.socket = new Dealer({ routingId: options.routingId ?? `raw-${process.pid}-${Math.random().toString(36).slice(2)}`, linger: 0, ...options });
    this.socket.connect(endpoint);
    void this.loop();
  }

  send(type: number, channel: string | Buffer, payload: Buffer | Uint8Array): Promise<void> {
    return this.socket.send([Buffer.from([type]), typeof channel === 'string' ? Buffer.from(channel) : channel, Buffer.from(payload)]);
  }

  /** Waits for the next message matching `pred` (earlier non-matching ones are kept). */
  async next(pred: (m: Buffer[]) => boolean, what: string, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.received.map((m) => m.map((p) => p.toString('hex')).join('|')).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** A PING/PONG round trip: everything sent before it was processed by the transport. */
  async roundTrip(nonce = Math.floor(Math.random() * 1e9)): Promise<void> {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(nonce >>> 0, 0);
    await this.send(0x05, Buffer.alloc(0), n);
    await this.next((m) => m[0][0] === 0x06 && m[2].equals(n), 'PONG');
  }

  all(): Buffer[][] {
    return this.received;
  }

  close(): void {
    this.socket.close();
  }

  private async loop(): Promise<void> {
    for (;;) {
      try {
        this.received.push((await this.socket.receive()) as Buffer[]);
      } catch {
        return;
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
}

export function u32pair(a: number, b: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(a, 0);
  buf.writeUInt32BE(b, 4);
  return buf;
}
