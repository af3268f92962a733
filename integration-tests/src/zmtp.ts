import { connect, type Socket } from 'node:net';

/**
 * A ZeroMQ peer written by hand on a plain TCP socket (ZMTP 3.0, RFC 23/ZMTP), so tests can say
 * what a ZeroMQ library never would: another protocol version, another security mechanism, a
 * frame that declares more bytes than it has. Nothing here depends on the `zeromq` package.
 */

/** The 64-byte greeting: signature, version, mechanism, as-server, filler. */
export function greeting(options: { major?: number; minor?: number; mechanism?: string; asServer?: boolean } = {}): Buffer {
  const g = Buffer.alloc(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = options.major ?? 3;
  g[11] = options.minor ?? 0;
  g.write(options.mechanism ?? 'NULL', 12, 20, 'latin1');
  g[32] = options.asServer === true ? 1 : 0;
  return g;
}

/** A command frame (READY, ERROR, …) with its properties. */
export function command(name: string, properties: Readonly<Record<string, Buffer | string>> = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([name.length]), Buffer.from(name, 'latin1')];
  for (const [key, value] of Object.entries(properties)) {
    const v = Buffer.from(value);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(v.length, 0);
    parts.push(Buffer.from([key.length]), Buffer.from(key, 'latin1'), size, v);
  }
  const body = Buffer.concat(parts);
  return body.length < 256 ? Buffer.concat([Buffer.from([0x04, body.length]), body]) : Buffer.concat([Buffer.from([0x06]), u64(body.length), body]);
}

/** The NULL mechanism's READY of a DEALER with this routing id. */
export function dealerReady(identity: string): Buffer {
  return command('READY', { 'Socket-Type': 'DEALER', Identity: identity });
}

/** One message frame; `declared` overrides the length written in its header (a lie, to fuzz). */
export function messageFrame(body: Buffer, more: boolean, declared?: bigint): Buffer {
  const long = body.length > 255 || declared !== undefined;
  const flags = (more ? 0x01 : 0) | (long ? 0x02 : 0);
  return Buffer.concat([Buffer.from([flags]), long ? u64(declared ?? BigInt(body.length)) : Buffer.from([body.length]), body]);
}

/** A multipart message as frames. */
export function message(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts.map((p, i) => messageFrame(p, i < parts.length - 1)));
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n), 0);
  return b;
}

/** What a peer said in its greeting. */
export interface PeerGreeting {
  readonly major: number;
  readonly minor: number;
  readonly mechanism: string;
}

export function parseGreeting(bytes: Buffer): PeerGreeting {
  return { major: bytes[10], minor: bytes[11], mechanism: bytes.subarray(12, 32).toString('latin1').replace(/\0+$/, '') };
}

/** A raw TCP connection to a ZeroMQ port, collecting whatever the port sends back. */
export class RawZmtp {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(host: string, port: number) {
    this.socket = connect({ host, port });
    this.socket.on('error', () => undefined); // a reset by the peer is an answer too
    this.socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake();
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => {
      this.wake();
      resolve();
    }));
  }

  static fromEndpoint(endpoint: string): RawZmtp {
    const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
    if (m === null) throw new Error(`not a tcp:// endpoint: ${endpoint}`);
    return new RawZmtp(m[1], Number(m[2]));
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Resolves with the first `n` bytes received, or undefined when the connection closed before. */
  async bytes(n: number, timeoutMs = 10_000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (this.socket.destroyed || this.socket.readableEnded) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${n} bytes from the peer within ${timeoutMs} ms (got ${this.received.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.subarray(0, n);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
