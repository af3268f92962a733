import { MobiusError, TransportError, type ControlMessage } from '@mobius/interface';
import { waitFor } from '@mobius/testkit';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { Dealer } from 'zeromq';
import { ZmqControlClient, ZmqControlServer, type ZmqControlClientOptions, type ZmqControlServerOptions } from './control.js';
import { generateCurveKeyPair } from './curve.js';
import { recordingLogger } from './test-support/raw.js';

const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function server(options: ZmqControlServerOptions = {}): Promise<ZmqControlServer> {
  const s = new ZmqControlServer(options);
  closers.push(() => s.close());
  await s.start();
  return s;
}

async function client(s: ZmqControlServer, id: string, options: Partial<ZmqControlClientOptions> = {}): Promise<ZmqControlClient> {
  const c = new ZmqControlClient({ id, serverEndpoint: s.endpoint, ...options });
  closers.push(() => c.close());
  await c.start();
  return c;
}

/** A server and a client that the server has seen (HELLO arrived). */
async function connected(serverOptions: ZmqControlServerOptions = {}, clientOptions: Partial<ZmqControlClientOptions> = {}, id = 'worker-1') {
  const s = await server(serverOptions);
  const seen: string[] = [];
  s.onPeer('connected', (p) => seen.push(p));
  const c = await client(s, id, clientOptions);
  await waitFor(() => seen.includes(id), `the server to see ${id}`);
  return { s, c };
}

const heartbeat = (workerId: string, time = 1): ControlMessage => ({ type: 'heartbeat', workerId, time, tasks: [] });

describe('ZmqControlServer / ZmqControlClient', () => {
  it('binds an ephemeral port and reports it', async () => {
    const s = await server();
    expect(s.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('client → server request/response; the server sees the client id as `from`', async () => {
    const { s, c } = await connected();
    const froms: string[] = [];
    s.onRequest((from, msg) => {
      froms.push(from);
      expect(msg).toEqual({ type: 'register', workerId: 'worker-1', endpoint: 'tcp://127.0.0.1:9', slots: 4, pid: 1 });
      return { type: 'registered', workerId: 'worker-1', heartbeatMs: 500 };
    });
    const reply = await c.request('ignored', { type: 'register', workerId: 'worker-1', endpoint: 'tcp://127.0.0.1:9', slots: 4, pid: 1 });
    expect(reply).toEqual({ type: 'registered', workerId: 'worker-1', heartbeatMs: 500 });
    expect(froms).toEqual(['worker-1']);
    expect(s.peers()).toEqual(['worker-1']);
  });

  it('server → client request/response by client id, with async handlers', async () => {
    const { s, c } = await connected();
    c.onRequest(async (from, msg) => {
      expect(from).toBe('server');
      await new Promise((resolve) => setImmediate(resolve));
      return msg.type === 'cancel' ? { type: 'ok' } : { type: 'error', code: 'X', message: 'unexpected' };
    });
    expect(await s.request('worker-1', { type: 'cancel', jobId: 'j1' })).toEqual({ type: 'ok' });
  });

  it('correlates many concurrent requests answered out of order', async () => {
    const { s, c } = await connected();
    s.onRequest(async (_from, msg) => {
      const m = msg as Extract<ControlMessage, { type: 'heartbeat' }>;
      await new Promise((resolve) => setTimeout(resolve, (50 - m.time) % 7));
      return { type: 'heartbeat', workerId: 'echo', time: m.time * 2, tasks: [] } as ControlMessage;
    });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => c.request('', heartbeat('worker-1', i))));
    expect(replies.map((r) => (r as Extract<ControlMessage, { type: 'heartbeat' }>).time)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  });

  it('pushes both ways', async () => {
    const { s, c } = await connected();
    const atServer: [string, ControlMessage][] = [];
    const atClient: [string, ControlMessage][] = [];
    s.onPush((from, m) => atServer.push([from, m]));
    c.onPush((from, m) => atClient.push([from, m]));
    c.push('ignored', heartbeat('worker-1', 42));
    s.push('worker-1', { type: 'checkpoint-complete', jobId: 'j', checkpointId: 3 });
    await waitFor(() => atServer.length === 1 && atClient.length === 1, 'both pushes');
    expect(atServer).toEqual([['worker-1', heartbeat('worker-1', 42)]]);
    expect(atClient).toEqual([['server', { type: 'checkpoint-complete', jobId: 'j', checkpointId: 3 }]]);
  });

  it('a throwing handler replies {type: error, code, message}', async () => {
    const { s, c } = await connected();
    s.onRequest((_from, msg) => {
      if (msg.type === 'cancel') throw new MobiusError('JOB_UNKNOWN', 'no job j9');
      throw new Error('plain failure');
    });
    expect(await c.request('', { type: 'cancel', jobId: 'j9' })).toEqual({ type: 'error', code: 'JOB_UNKNOWN', message: 'no job j9' });
    expect(await c.request('', { type: 'ok' })).toEqual({ type: 'error', code: 'HANDLER_FAILED', message: 'plain failure' });
  });

  it('a request without a handler gets an error reply', async () => {
    const { c } = await connected();
    expect(await c.request('', { type: 'ok' })).toMatchObject({ type: 'error', code: 'NO_HANDLER' });
  });

  it('a request that gets no reply rejects with a TransportError after its timeout', async () => {
    const { s, c } = await connected();
    s.onRequest(() => new Promise<ControlMessage>(() => {}));
    const started = Date.now();
    const e = await c.request('', { type: 'ok' }, 100).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((e as TransportError).message).toMatch(/timed out after 100 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('a request to an unknown client rejects with TRANSPORT_PEER_LOST', async () => {
    const s = await server();
    const e = await s.request('nobody', { type: 'ok' }, 2000).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_PEER_LOST');
  });

  it("emits 'connected' and 'disconnected' for each client", async () => {
    const s = await server({ peerTimeoutMs: 1000 });
    const events: string[] = [];
    s.onPeer('connected', (p) => events.push(`+${p}`));
    s.onPeer('disconnected', (p) => events.push(`-${p}`));
    const a = new ZmqControlClient({ id: 'a', serverEndpoint: s.endpoint });
    const b = new ZmqControlClient({ id: 'b', serverEndpoint: s.endpoint });
    closers.push(() => a.close(), () => b.close());
    await a.start();
    await b.start();
    await waitFor(() => events.includes('+a') && events.includes('+b'), 'both clients');
    await a.close();
    await waitFor(() => events.includes('-a'), 'a to disconnect');
    expect(events.includes('-b')).toBe(false);
    expect(s.peers()).toEqual(['b']);
  });

  it('pending requests of a client that disconnects fail with TRANSPORT_PEER_LOST', async () => {
    const { s, c } = await connected({ peerTimeoutMs: 1000 });
    c.onRequest(() => new Promise<ControlMessage>(() => {}));
    const pending = s.request('worker-1', { type: 'ok' }, 10_000).catch((err: unknown) => err);
    await c.close();
    const e = await pending;
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_PEER_LOST');
  });

  it('the client reports the server going away and coming back', async () => {
    const s = await server();
    const c = await client(s, 'w');
    const events: string[] = [];
    c.onPeer('connected', (p) => events.push(`+${p}`));
    c.onPeer('disconnected', (p) => events.push(`-${p}`));
    await waitFor(() => events.includes('+server'), 'the connection');
    const endpoint = s.endpoint;
    await s.close();
    await waitFor(() => events.includes('-server'), 'the server to go away');
    const s2 = new ZmqControlServer({ endpoint });
    closers.push(() => s2.close());
    await s2.start();
    s2.onRequest(() => ({ type: 'ok' }));
    await waitFor(() => events.filter((e) => e === '+server').length === 2, 'the server to come back');
    expect(await c.request('', { type: 'ok' })).toEqual({ type: 'ok' });
  });

  it('drops malformed control messages, counting and logging them, and keeps working', async () => {
    const { logger, errors } = recordingLogger();
    const { s, c } = await connected({ logger });
    s.onRequest(() => ({ type: 'ok' }));
    const packr = new Packr({ useRecords: false });
    const raw = new Dealer({ routingId: 'raw', linger: 0 });
    closers.push(() => raw.close());
    raw.connect(s.endpoint);
    const garbage: Buffer[][] = [
      [Buffer.from([0xc1])],
      [Buffer.from('not msgpack at all')],
      [packr.pack({ kind: 2 })],
      [packr.pack([99, 1, { type: 'ok' }])],
      [packr.pack([2, -1, { type: 'ok' }])],
      [packr.pack([2, 1, { notype: true }])],
      [packr.pack([4, 0, 'string'])],
      [packr.pack([2, 1, { type: 'ok' }]), Buffer.from('extra part')],
    ];
    for (const g of garbage) await raw.send(g);
    await waitFor(() => s.stats().malformed === garbage.length, `${garbage.length} malformed messages`);
    // One peer sent them all: the first 5 are logged, the rest counted (PeerLogLimiter).
    expect(errors.filter((e) => e.msg === 'malformed control message dropped')).toHaveLength(5);
    expect(await c.request('', { type: 'ok' })).toEqual({ type: 'ok' });
  });

  it('works over CURVE; a client without the server key gets no answer', async () => {
    const serverKeys = generateCurveKeyPair();
    const { s, c } = await connected({ curve: serverKeys }, { curve: { ...generateCurveKeyPair(), serverPublicKey: serverKeys.publicKey } });
    s.onRequest(() => ({ type: 'ok' }));
    expect(await c.request('', { type: 'ok' })).toEqual({ type: 'ok' });
    const intruder = await client(s, 'intruder', { curve: { ...generateCurveKeyPair(), serverPublicKey: generateCurveKeyPair().publicKey }, peerTimeoutMs: 200 });
    const e = await intruder.request('', { type: 'ok' }, 300).catch((err: unknown) => err);
    expect((e as TransportError).code).toBe('TRANSPORT_FAILED');
    expect(s.peers()).toEqual(['worker-1']);
  });

  it('close() rejects pending requests with TRANSPORT_CLOSED; a closed endpoint refuses new ones', async () => {
    const { s, c } = await connected();
    s.onRequest(() => new Promise<ControlMessage>(() => {}));
    const pending = c.request('', { type: 'ok' }, 10_000).catch((err: unknown) => err);
    await c.close();
    expect(await pending).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    await expect(c.request('', { type: 'ok' })).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(() => c.push('', { type: 'ok' })).toThrow(TransportError);
    await s.close();
    await expect(s.request('worker-1', { type: 'ok' })).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });

  it('close() delivers pushes sent just before it', async () => {
    const { s, c } = await connected();
    const got: number[] = [];
    s.onPush((_from, m) => got.push((m as Extract<ControlMessage, { type: 'heartbeat' }>).time));
    for (let i = 0; i < 100; i++) c.push('', heartbeat('worker-1', i));
    await c.close();
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('close() right after start() still delivers the pushes queued before the connection existed', async () => {
    const s = await server();
    const got: number[] = [];
    s.onPush((_from, m) => got.push((m as Extract<ControlMessage, { type: 'heartbeat' }>).time));
    const c = new ZmqControlClient({ id: 'hasty', serverEndpoint: s.endpoint });
    closers.push(() => c.close());
    await c.start();
    for (let i = 0; i < 10; i++) c.push('', heartbeat('hasty', i));
    await c.close();
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('rejects a bad client id and a non-message with TransportError', async () => {
    expect(() => new ZmqControlClient({ id: '', serverEndpoint: 'tcp://127.0.0.1:1' })).toThrow(TransportError);
    expect(() => new ZmqControlClient({ id: 'x'.repeat(256), serverEndpoint: 'tcp://127.0.0.1:1' })).toThrow(TransportError);
    const { c } = await connected();
    await expect(c.request('', { notAMessage: true } as unknown as ControlMessage)).rejects.toMatchObject({ code: 'FRAME_MALFORMED' });
  });
});
