import { TransportError, makeFrame, type Frame } from '@mobius/interface';
import { collectFrames, sendWhenWritable, waitFor, within } from '@mobius/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { MsgpackCodec } from '@mobius/plugin-kit';
import { RawPeer, recordingLogger, sendRawDealer, sendRawTcp, u32pair } from './test-support/raw.js';
import type { ZmqTransportOptions } from './zmq-options.js';
import { ZmqTransport, createZmqTransport } from './zmq-transport.js';

const open: ZmqTransport[] = [];
const raws: RawPeer[] = [];

async function started(options: ZmqTransportOptions = {}): Promise<ZmqTransport> {
  const t = new ZmqTransport(options);
  open.push(t);
  await t.start();
  return t;
}

function raw(endpoint: string): RawPeer {
  const r = new RawPeer(endpoint);
  raws.push(r);
  return r;
}

afterEach(async () => {
  while (raws.length > 0) raws.pop()!.close();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const codec = new MsgpackCodec();
const data = (channel: string, seq: number): Frame<number> => makeFrame(channel, 'data', seq, [seq]);

function caught(fn: () => unknown): TransportError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    return e as TransportError;
  }
  throw new Error('expected a TransportError');
}

describe('ZmqTransport: endpoints and lifecycle', () => {
  it('binds 127.0.0.1 on an ephemeral port by default and reports the real endpoint', async () => {
    const t = await started();
    expect(t.kind).toBe('zeromq');
    expect(t.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(t.endpoint).not.toMatch(/:0$/);
  });

  it('advertises a reachable host when bound to 0.0.0.0', async () => {
    const t = await started({ host: '0.0.0.0' });
    expect(t.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const b = await started({ host: '0.0.0.0', advertiseHost: 'localhost' });
    expect(b.endpoint).toMatch(/^tcp:\/\/localhost:\d+$/);
  });

  it('binds an ipc:// endpoint given as `endpoint`, overriding host and port', async () => {
    const path = `/tmp/mobius-zmq-test-${process.pid}-${Date.now()}.sock`;
    const b = await started({ endpoint: `ipc://${path}`, host: '10.9.9.9', port: 1 });
    expect(b.endpoint).toBe(`ipc://${path}`);
    const a = await started();
    const rx = b.openReceiver('c', { credits: 2 });
    const got = collectFrames(rx, 1);
    a.openSender('c', b.endpoint, { credits: 2 }).trySend(data('c', 1));
    expect((await got)[0].records).toEqual([1]);
  });

  it('requires start() before opening channels; start() twice is harmless', async () => {
    const t = createZmqTransport();
    open.push(t);
    expect(caught(() => t.openReceiver('c', { credits: 1 })).code).toBe('TRANSPORT_FAILED');
    expect(caught(() => t.openSender('c', 'tcp://127.0.0.1:1', { credits: 1 })).message).toContain('start()');
    await Promise.all([t.start(), t.start()]);
    await t.start();
    expect(() => t.openReceiver('c', { credits: 1 })).not.toThrow();
  });

  it('rejects bad options and endpoints with TransportError', async () => {
    expect(caught(() => new ZmqTransport({ port: 70000 })).code).toBe('TRANSPORT_FAILED');
    expect(caught(() => new ZmqTransport({ endpoint: 'http://x' })).code).toBe('TRANSPORT_FAILED');
    expect(caught(() => new ZmqTransport({ peerTimeoutMs: 0 })).code).toBe('TRANSPORT_FAILED');
    const t = await started();
    expect(caught(() => t.openSender('c', 'memory://x', { credits: 1 })).code).toBe('TRANSPORT_FAILED');
    expect(caught(() => t.openSender('c', t.endpoint, { credits: 70000 })).message).toContain('credits');
  });

  it('fails to start on an endpoint another transport holds, with TRANSPORT_FAILED', async () => {
    const a = await started();
    const b = new ZmqTransport({ endpoint: a.endpoint });
    open.push(b);
    const e = await b.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((e as TransportError).message).toContain(a.endpoint);
  }, 10_000);

  it('a closed transport cannot start again', async () => {
    const t = await started();
    await t.close();
    await t.close();
    await expect(t.start()).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });
});

describe('ZmqTransport: sending', () => {
  it('checks the frame channel and encodability before spending a credit', async () => {
    const a = await started();
    const tx = a.openSender('c', a.endpoint, { credits: 2 });
    expect(caught(() => tx.trySend(data('other', 0))).code).toBe('FRAME_MALFORMED');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(caught(() => tx.trySend(makeFrame('c', 'data', 0, [cyclic]))).code).toBe('FRAME_MALFORMED');
    expect(tx.credits).toBe(2);
  });

  it('sends one message per frame, not per record, and counts frames and bytes', async () => {
    const a = await started();
    const b = await started();
    const rx = b.openReceiver('c', { credits: 8 });
    const tx = a.openSender('c', b.endpoint, { credits: 8 });
    const got = collectFrames(rx, 10);
    for (let i = 0; i < 10; i++) await sendWhenWritable(tx, makeFrame('c', 'data', i * 1000, Array.from({ length: 1000 }, (_, k) => i * 1000 + k)));
    const frames = await got;
    expect(frames.map((f) => f.count)).toEqual(Array(10).fill(1000));
    expect(a.stats().framesOut).toBe(10);
    expect(b.stats().framesIn).toBe(10);
    expect(a.stats().bytesOut).toBeGreaterThan(10 * 1000);
    expect(b.stats().bytesIn).toBeGreaterThanOrEqual(a.stats().bytesOut - 64); // a's PINGs may still be in flight
    expect(b.stats().malformed).toBe(0);
  });

  it('close() returns only after the frames already sent reached the receiving transport', async () => {
    const a = await started();
    const b = await started();
    const rx = b.openReceiver('c', { credits: 500 });
    const tx = a.openSender('c', b.endpoint, { credits: 500 });
    // Make sure the connection exists, then queue a burst and close at once.
    const first = collectFrames(rx, 1);
    tx.trySend(data('c', 0));
    await first;
    for (let i = 1; i <= 400; i++) expect(tx.trySend(data('c', i))).toBe(true);
    await a.close();
    const seqs: number[] = [];
    for (let f = rx.poll(); f !== undefined; f = rx.poll()) seqs.push(f.seq);
    expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('close() right after openSender, while the connection is still being made, delivers too', async () => {
    const b = await started();
    const a = await started();
    const rx = b.openReceiver('hasty', { credits: 10 });
    const tx = a.openSender('hasty', b.endpoint, { credits: 10 });
    for (let i = 0; i < 10; i++) expect(tx.trySend(data('hasty', i))).toBe(true);
    await a.close();
    const seqs: number[] = [];
    for (let f = rx.poll(); f !== undefined; f = rx.poll()) seqs.push(f.seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a sender to an endpoint with nobody listening reports peer-lost, then delivers once a transport binds there', async () => {
    const placeholder = await started();
    const endpoint = placeholder.endpoint;
    await placeholder.close();
    const a = await started({ peerTimeoutMs: 200 });
    const events: string[] = [];
    a.on('peer-lost', (p) => events.push(`lost ${p}`));
    a.on('peer-reconnected', (p) => events.push(`back ${p}`));
    const tx = a.openSender('c', endpoint, { credits: 3 });
    for (let i = 0; i < 3; i++) expect(tx.trySend(data('c', i))).toBe(true);
    expect(tx.trySend(data('c', 3))).toBe(false);
    await waitFor(() => events.includes(`lost ${endpoint}`), 'peer-lost');
    const b = await started({ endpoint });
    const rx = b.openReceiver('c', { credits: 3 });
    const got = collectFrames(rx, 6);
    for (let i = 3; i < 6; i++) await sendWhenWritable(tx, data('c', i));
    expect((await got).map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    await waitFor(() => events.includes(`back ${endpoint}`), 'peer-reconnected');
    expect(events).toEqual([`lost ${endpoint}`, `back ${endpoint}`]);
  });
});

describe('ZmqTransport: credits on the wire', () => {
  it('returns credits with CREDIT messages, batched per drain, tagged with the OPEN epoch', async () => {
    const b = await started();
    const rx = b.openReceiver('w', { credits: 4 });
    const peer = raw(b.endpoint);
    await peer.send(0x01, 'w', u32pair(4, 77));
    for (let i = 0; i < 4; i++) await peer.send(0x02, 'w', codec.encode(data('w', i)));
    await peer.roundTrip();
    const seqs: number[] = [];
    for (let f = rx.poll(); f !== undefined; f = rx.poll()) seqs.push(f.seq);
    expect(seqs).toEqual([0, 1, 2, 3]);
    const credit = await peer.next((m) => m[0][0] === 0x03, 'CREDIT');
    expect(credit[1].toString()).toBe('w');
    expect([credit[2].readUInt32BE(0), credit[2].readUInt32BE(4)]).toEqual([4, 77]);
    expect(b.stats().malformed).toBe(0);
  });

  it('drops a frame beyond the announced credits (counted, logged) and never queues more than credits', async () => {
    const { logger, errors } = recordingLogger();
    const b = await started({ logger });
    const peer = raw(b.endpoint);
    await peer.send(0x01, 'held', u32pair(2, 1));
    for (let i = 0; i < 5; i++) await peer.send(0x02, 'held', codec.encode(data('held', i)));
    await peer.roundTrip();
    expect(b.stats().malformed).toBe(3);
    expect(errors.filter((e) => String((e.obj as { reason?: unknown }).reason).includes('exceeds its 2 credits'))).toHaveLength(3);
    // The receiver opens after the frames arrived: exactly the first two were held.
    const rx = b.openReceiver('held', { credits: 2 });
    expect([rx.poll()?.seq, rx.poll()?.seq, rx.poll()]).toEqual([0, 1, undefined]);
  });

  it('tells the sender with CLOSE when the receiver closes, and drops its late frames quietly', async () => {
    const b = await started();
    const rx = b.openReceiver('bye', { credits: 2 });
    const peer = raw(b.endpoint);
    await peer.send(0x01, 'bye', u32pair(2, 9));
    await peer.roundTrip();
    rx.close();
    const close = await peer.next((m) => m[0][0] === 0x04, 'CLOSE');
    expect(close[1].toString()).toBe('bye');
    expect(close[2].readUInt32BE(0)).toBe(9);
    await peer.send(0x02, 'bye', codec.encode(data('bye', 0)));
    await peer.roundTrip();
    expect(b.stats().malformed).toBe(0);
  });

  it('a new OPEN (reconnected or restarted sender) starts a new credit epoch', async () => {
    const b = await started();
    const rx = b.openReceiver('ep', { credits: 2 });
    const peer = raw(b.endpoint);
    await peer.send(0x01, 'ep', u32pair(2, 1));
    await peer.send(0x02, 'ep', codec.encode(data('ep', 0)));
    await peer.send(0x02, 'ep', codec.encode(data('ep', 1)));
    // The sender lost track (say, after a reconnect) and opens again with full credits.
    await peer.send(0x01, 'ep', u32pair(2, 2));
    await peer.send(0x02, 'ep', codec.encode(data('ep', 2)));
    await peer.send(0x02, 'ep', codec.encode(data('ep', 3)));
    await peer.roundTrip();
    expect(b.stats().malformed).toBe(0);
    expect([0, 1, 2, 3].map(() => rx.poll()?.seq)).toEqual([0, 1, 2, 3]);
    // Only the frames of the current epoch give credit back, under that epoch.
    const credit = await peer.next((m) => m[0][0] === 0x03, 'CREDIT');
    expect([credit[2].readUInt32BE(0), credit[2].readUInt32BE(4)]).toEqual([2, 2]);
  });
});

describe('ZmqTransport: malformed input', () => {
  it('drops garbage from a raw DEALER, counts and logs each message, and keeps working', async () => {
    const { logger, errors } = recordingLogger();
    const b = await started({ logger });
    const a = await started();
    await sendRawDealer(b.endpoint, Buffer.from('not a frame at all'));
    // 13 malformed messages of the 14 sent (one is a valid OPEN); see sendRawDealer.
    expect(b.stats().malformed).toBe(13);
    // One peer sent them all: the first 5 are logged, the rest counted (PeerLogLimiter).
    expect(errors.length).toBe(5);
    expect(errors.every((e) => typeof (e.obj as { reason?: unknown }).reason === 'string')).toBe(true);
    const rx = b.openReceiver('after', { credits: 4 });
    const got = collectFrames(rx, 10);
    const tx = a.openSender('after', b.endpoint, { credits: 4 });
    for (let i = 0; i < 10; i++) await sendWhenWritable(tx, data('after', i));
    expect((await got).map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.stats().malformed).toBe(13);
  });

  it('survives random bytes on a plain TCP connection (ZeroMQ drops the handshake) and keeps working', async () => {
    const b = await started();
    const a = await started();
    const junk = Buffer.alloc(100_000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
    await sendRawTcp(b.endpoint, junk);
    await sendRawTcp(b.endpoint, Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1, 0xde, 0xad]));
    await sendRawTcp(b.endpoint, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const rx = b.openReceiver('tcp-after', { credits: 4 });
    const got = collectFrames(rx, 5);
    const tx = a.openSender('tcp-after', b.endpoint, { credits: 4 });
    for (let i = 0; i < 5; i++) await sendWhenWritable(tx, data('tcp-after', i));
    expect((await got).map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a message larger than maxMessageBytes drops that connection, not the transport', async () => {
    const b = await started({ maxMessageBytes: 64 * 1024 });
    const big = await started();
    const small = await started();
    const rx = b.openReceiver('big', { credits: 2 });
    const lost: string[] = [];
    big.on('peer-lost', (p) => lost.push(p));
    big.openSender('big', b.endpoint, { credits: 2 }).trySend(makeFrame('big', 'data', 0, ['x'.repeat(200 * 1024)]));
    await waitFor(() => lost.length > 0, 'the oversized sender to lose its connection');
    const rx2 = b.openReceiver('small', { credits: 2 });
    const got = collectFrames(rx2, 1);
    small.openSender('small', b.endpoint, { credits: 2 }).trySend(data('small', 1));
    expect((await got)[0].seq).toBe(1);
    expect(rx.poll()).toBeUndefined();
  });

  it('a readable listener that throws is logged, not counted as malformed', async () => {
    const { logger, errors } = recordingLogger();
    const b = await started({ logger });
    const a = await started();
    const rx = b.openReceiver('boom', { credits: 2 });
    let calls = 0;
    rx.onReadable(() => {
      calls++;
      throw new Error('listener bug');
    });
    a.openSender('boom', b.endpoint, { credits: 2 }).trySend(data('boom', 0));
    await waitFor(() => calls > 0, 'the listener');
    expect(b.stats().malformed).toBe(0);
    expect(errors.some((e) => e.msg === 'readable listener threw')).toBe(true);
    expect(rx.poll()?.seq).toBe(0);
  });
});

describe('ZmqTransport: peers', () => {
  it('emits peer-lost on PING timeout when a peer stops answering but keeps its connection', async () => {
    // A raw ROUTER that accepts the connection and never answers a PING.
    const { Router } = await import('zeromq');
    const silent = new Router();
    await silent.bind('tcp://127.0.0.1:0');
    try {
      const a = await started({ peerTimeoutMs: 200 });
      const lost: string[] = [];
      a.on('peer-lost', (p) => lost.push(p));
      const endpoint = silent.lastEndpoint!;
      a.openSender('c', endpoint, { credits: 1 });
      const opened = (await within(silent.receive(), 'the OPEN at the silent router')) as Buffer[];
      expect(opened[1][0]).toBe(0x01);
      await waitFor(() => lost.includes(endpoint), 'peer-lost by timeout');
    } finally {
      silent.close();
    }
  });

  it('every listener of an event is called, and a throwing one does not stop the others', async () => {
    const { logger, errors } = recordingLogger();
    const a = await started({ logger });
    const b = await started();
    const seen: string[] = [];
    a.on('peer-lost', () => {
      throw new Error('listener bug');
    });
    a.on('peer-lost', (p) => seen.push(p));
    const rx = b.openReceiver('c', { credits: 1 });
    const got = collectFrames(rx, 1);
    a.openSender('c', b.endpoint, { credits: 1 }).trySend(data('c', 0));
    await got;
    const endpoint = b.endpoint;
    await b.close();
    await waitFor(() => seen.length > 0, 'peer-lost');
    expect(seen).toEqual([endpoint]);
    expect(errors.some((e) => e.msg === 'transport event listener threw')).toBe(true);
  });
});
