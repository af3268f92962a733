import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { TransportError, type Logger } from '@mobius/interface';
import { collectFrames, describeTransport, frameOf, sendWhenWritable, within } from '@mobius/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetTransport, createTransport } from './index.js';
import { MessageReader, encodeMessage, parseEndpoint } from './wire.js';

/**
 * Opens a plain TCP connection to `endpoint`, writes `bytes`, ends it and waits until it is
 * closed: the transport closes its side only after it has read (and handled) everything before
 * our end, or at once when it destroys the connection on a corrupt length prefix.
 */
function sendRaw(endpoint: string, bytes: Uint8Array, timeoutMs = 5000): Promise<void> {
  const target = parseEndpoint(endpoint)!;
  return new Promise<void>((resolve, reject) => {
    const socket = connect(target);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw connection to ${endpoint} did not close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', () => undefined); // a reset by the transport is fine
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => socket.end(Buffer.from(bytes)));
    socket.resume();
  });
}

// Real sockets on 127.0.0.1 with ephemeral ports. createAt binds a new transport at the port of
// the one just closed; sendRaw writes the suite's garbage on a plain TCP connection.
describeTransport('net', {
  create: () => new NetTransport(),
  createAt: (endpoint) => new NetTransport({ endpoint }),
  teardown: (t) => t.close(),
  sendRaw: (endpoint, bytes) => sendRaw(endpoint, bytes),
});

// --- plugin-specific tests ---------------------------------------------------------------------

const open: NetTransport[] = [];
const rawSockets: Socket[] = [];

afterEach(async () => {
  for (const s of rawSockets.splice(0)) s.destroy();
  while (open.length > 0) await open.pop()!.close();
});

function recordingLogger(): { logger: Logger; errors: { obj: object; msg?: string }[] } {
  const errors: { obj: object; msg?: string }[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (obj, msg) => void errors.push({ obj, msg }),
    child: () => logger,
  };
  return { logger, errors };
}

async function started(options: ConstructorParameters<typeof NetTransport>[0] = {}): Promise<NetTransport> {
  const t = new NetTransport(options);
  open.push(t);
  await t.start();
  return t;
}

interface RawClient {
  readonly socket: Socket;
  send(bytes: Buffer): void;
  readonly replies: { type: number; body: unknown }[];
  /** Resolves when a reply arrives (at once if one is already there). */
  reply(): Promise<void>;
  readonly closed: Promise<void>;
}

/** A hand-driven client speaking the wire protocol: writes messages, collects the replies. */
async function rawClient(endpoint: string): Promise<RawClient> {
  const socket = connect(parseEndpoint(endpoint)!);
  rawSockets.push(socket);
  const reader = new MessageReader();
  const replies: { type: number; body: unknown }[] = [];
  let waiters: (() => void)[] = [];
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let m = reader.next(); m !== undefined; m = reader.next()) replies.push({ type: m.type, body: JSON.parse(m.payload.toString('utf8')) });
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    socket,
    send: (bytes) => void socket.write(bytes),
    replies,
    reply: () => (replies.length > 0 ? Promise.resolve() : within(new Promise<void>((resolve) => waiters.push(resolve)), 'a reply', 5000)),
    closed,
  };
}

/** A message with a hand-made length prefix and raw payload bytes. */
function rawMessage(type: number, payload: string | Buffer, length?: number): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length ?? body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

describe('NetTransport: malformed input', () => {
  it('a corrupt length prefix is counted, logged, and ends that connection; the transport keeps working', async () => {
    const { logger, errors } = recordingLogger();
    const a = await started();
    const b = await started({ logger });
    // Over 64 MiB, and 0 (a message needs its type byte): each one destroys its connection.
    await sendRaw(b.endpoint, rawMessage(0x02, '{}', 64 * 1024 * 1024 + 2));
    await sendRaw(b.endpoint, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x02, 0x7b]));
    await sendRaw(b.endpoint, Buffer.from([0, 0, 0, 0, 0x01]));
    expect(b.stats().malformed).toBe(3);
    expect(errors).toHaveLength(3);
    expect((errors[0].obj as { reason?: string }).reason).toMatch(/corrupt length prefix: 67108866/);
    expect(errors.every((e) => /malformed message dropped/.test(e.msg ?? ''))).toBe(true);

    const rx = b.openReceiver('after-corrupt', { credits: 2 });
    const got = collectFrames(rx, 1, 5000);
    expect(a.openSender('after-corrupt', b.endpoint, { credits: 2 }).trySend(frameOf('after-corrupt', 0, ['still here']))).toBe(true);
    expect((await got)[0].records).toEqual(['still here']);
    expect(b.stats().malformed).toBe(3);
  });

  it('a message with bad JSON is dropped and counted, and the connection goes on', async () => {
    const { logger, errors } = recordingLogger();
    const b = await started({ logger });
    const rx = b.openReceiver('bad-json', { credits: 2 });
    const got = collectFrames(rx, 1, 5000);
    const client = await rawClient(b.endpoint);
    client.send(rawMessage(0x01, '{"channel": "bad-json", "credits": 2, "epoch": 1')); // truncated JSON
    client.send(rawMessage(0x02, Buffer.from([0xde, 0xad, 0xbe, 0xef]))); // not JSON at all
    client.send(rawMessage(0x09, '{}')); // unknown type
    client.send(encodeMessage(0x03, { channel: 'bad-json', count: 1, epoch: 1 })); // CREDIT sent to a receiver
    // The same connection still speaks the protocol: a valid OPEN and DATA arrive.
    client.send(encodeMessage(0x01, { channel: 'bad-json', credits: 2, epoch: 1 }));
    client.send(encodeMessage(0x02, frameOf('bad-json', 0, ['ok'])));
    expect((await got)[0].records).toEqual(['ok']);
    expect(b.stats().malformed).toBe(4);
    expect(errors.map((e) => (e.obj as { reason: string }).reason)).toEqual([
      expect.stringMatching(/OPEN payload is not valid JSON/),
      expect.stringMatching(/DATA payload is not valid JSON/),
      expect.stringMatching(/unexpected message type 0x09/),
      expect.stringMatching(/unexpected message type CREDIT/),
    ]);
    expect(client.socket.destroyed).toBe(false);
  });

  it('a frame of the wrong shape is dropped and its credit returned; DATA beyond the credits or without OPEN is dropped', async () => {
    const b = await started();
    const rx = b.openReceiver('shape', { credits: 1 });
    const client = await rawClient(b.endpoint);
    client.send(encodeMessage(0x02, frameOf('shape', 0, [1]))); // DATA before any OPEN
    client.send(encodeMessage(0x01, { channel: 'shape', credits: 1, epoch: 7 }));
    client.send(encodeMessage(0x02, { ...frameOf('shape', 0, [1, 2]), count: 5 })); // count differs from the records
    await client.reply();
    expect(client.replies).toEqual([{ type: 0x03, body: { channel: 'shape', count: 1, epoch: 7 } }]);
    expect(b.stats().malformed).toBe(2);

    // Nobody polls: the second frame is beyond the sender's one credit.
    client.send(encodeMessage(0x02, frameOf('shape', 1, ['a'])));
    client.send(encodeMessage(0x02, frameOf('shape', 2, ['b'])));
    client.socket.end();
    await client.closed;
    expect(rx.poll()?.seq).toBe(1);
    expect(rx.poll()).toBeUndefined();
    expect(b.stats().malformed).toBe(3);
  });

  it('a connection that ends inside a message is counted', async () => {
    const b = await started();
    await sendRaw(b.endpoint, rawMessage(0x02, '{"channel"', 100));
    expect(b.stats().malformed).toBe(1);
  });

  it('trySend refuses a frame too large for the wire, or without a JSON form, with FRAME_MALFORMED', async () => {
    const b = await started({ maxMessageBytes: 1024 });
    b.openReceiver('big', { credits: 2 });
    const tx = b.openSender('big', b.endpoint, { credits: 2 });
    const e = thrown(() => tx.trySend(frameOf('big', 0, ['x'.repeat(2048)])));
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('FRAME_MALFORMED');
    expect(thrown(() => tx.trySend(frameOf('big', 0, [10n])))).toMatchObject({ code: 'FRAME_MALFORMED' });
    expect(tx.credits).toBe(2);
  });
});

describe('NetTransport: plugin entry and lifecycle', () => {
  it('createTransport returns an unstarted NetTransport', async () => {
    const t = createTransport({ host: '127.0.0.1' });
    open.push(t);
    expect(t).toBeInstanceOf(NetTransport);
    expect(t.kind).toBe('net');
    expect(t.endpoint).toBe('tcp://127.0.0.1:0');
    expect(thrown(() => t.openReceiver('c', { credits: 1 }))).toMatchObject({ code: 'TRANSPORT_FAILED' });
    await t.start();
    expect(t.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(parseEndpoint(t.endpoint)!.port).toBeGreaterThan(0);
    const defaults = createTransport();
    expect(defaults).toBeInstanceOf(NetTransport);
    expect(defaults.endpoint).toBe('tcp://127.0.0.1:0');
  });

  it('advertises 127.0.0.1 when listening on every interface', async () => {
    const t = await started({ host: '0.0.0.0' });
    expect(t.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('rejects a target endpoint that is not tcp://host:port', async () => {
    const t = await started();
    expect(thrown(() => t.openSender('c', 'memory://x', { credits: 1 }))).toMatchObject({ code: 'TRANSPORT_FAILED' });
    expect(thrown(() => new NetTransport({ endpoint: 'ipc:///tmp/x' }))).toBeInstanceOf(TransportError);
  });

  it('after close() a process exits by itself, even with a peer that never answers', async (ctx) => {
    // A child process runs the built package (dist/, made by `npm run build`; turbo builds it before tests).
    const dist = new URL('../dist/index.js', import.meta.url);
    if (!existsSync(dist)) {
      ctx.skip('dist/index.js is missing: run `npm run build` first');
      return;
    }
    const script = `
      import { createServer } from 'node:net';
      import { NetTransport } from ${JSON.stringify(dist.href)};
      // A peer that accepts and never answers nor closes its side.
      const mute = createServer({ allowHalfOpen: true }, (s) => s.pause());
      await new Promise((r) => mute.listen(0, '127.0.0.1', r));
      const a = new NetTransport({ closeTimeoutMs: 300 }), b = new NetTransport({ closeTimeoutMs: 300 });
      await a.start(); await b.start();
      const rx = b.openReceiver('c', { credits: 4 });
      const got = new Promise((r) => rx.onReadable(r));
      a.openSender('c', b.endpoint, { credits: 4 }).trySend({ channel: 'c', kind: 'data', seq: 0, count: 1, records: ['x'], barrier: null, watermark: null, determinants: null });
      await got;
      a.openSender('m', 'tcp://127.0.0.1:' + mute.address().port, { credits: 4 }).trySend({ channel: 'm', kind: 'data', seq: 0, count: 1, records: ['y'], barrier: null, watermark: null, determinants: null });
      a.openSender('d', 'tcp://127.0.0.1:1', { credits: 1 }); // nothing listens there
      mute.close(); // stops listening; the accepted connection stays open
      await a.close(); await b.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const code = await within(exited, 'the child process to exit after close()', 10_000).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e;
    });
    expect(out.trim()).toBe('closed');
    expect(code).toBe(0);
  });

  it('a sender to a peer that crashed (no CLOSE) gets peer-lost, then peer-reconnected, and goes on with full credits', async () => {
    const a = await started();
    const b = await started();
    const events: string[] = [];
    a.on('peer-lost', (p) => events.push(`lost ${p}`));
    a.on('peer-reconnected', (p) => events.push(`back ${p}`));
    const rx = b.openReceiver('crash', { credits: 2 });
    const first = collectFrames(rx, 1, 5000);
    const tx = a.openSender('crash', b.endpoint, { credits: 2 });
    expect(tx.trySend(frameOf('crash', 0, [0]))).toBe(true);
    await first;
    expect(tx.trySend(frameOf('crash', 1, [1]))).toBe(true); // nobody polls it: one credit is out

    // A crash: b's sockets vanish without CLOSE messages (white box: its server and connections).
    const endpoint = b.endpoint;
    const inside = b as unknown as { server: import('node:net').Server; connections: Set<{ socket: Socket }> };
    const lost = new Promise<void>((resolve) => a.on('peer-lost', () => resolve()));
    inside.server.close();
    for (const c of inside.connections) c.socket.destroy();
    await within(lost, 'peer-lost', 5000);
    expect(tx.credits).toBe(1);

    const back = new Promise<void>((resolve) => a.on('peer-reconnected', () => resolve()));
    const b2 = await started({ endpoint });
    await within(back, 'peer-reconnected', 5000);
    expect(events).toEqual([`lost ${endpoint}`, `back ${endpoint}`]);
    expect(tx.credits).toBe(2); // a new epoch: full credits, announced with a new OPEN
    const rx2 = b2.openReceiver('crash', { credits: 2 });
    const later = collectFrames(rx2, 5, 5000);
    for (let seq = 2; seq < 7; seq++) await sendWhenWritable(tx, frameOf('crash', seq, [seq]), 5000);
    expect((await later).map((f) => f.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(b2.stats().malformed).toBe(0);
  });

  it('a listener that throws is logged and the others still run', async () => {
    const { logger, errors } = recordingLogger();
    const a = await started({ logger });
    const b = await started();
    const seen: string[] = [];
    a.on('peer-lost', () => {
      throw new Error('boom');
    });
    const lost = new Promise<void>((resolve) =>
      a.on('peer-lost', (p) => {
        seen.push(p);
        resolve();
      }),
    );
    const rx = b.openReceiver('c', { credits: 1 });
    const got = collectFrames(rx, 1, 5000);
    a.openSender('c', b.endpoint, { credits: 1 }).trySend(frameOf('c', 0, [0]));
    await got;
    const endpoint = b.endpoint;
    await b.close();
    await within(lost, 'peer-lost', 5000);
    expect(seen).toEqual([endpoint]);
    expect(errors.some((e) => e.msg === 'transport event listener threw')).toBe(true);
  });
});
