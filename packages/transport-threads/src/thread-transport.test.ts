import { RecordTypeError, TransportError, makeFrame, registerType, type ChannelSender, type Frame } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadHub } from './thread-hub.js';
import type { ThreadSender } from './thread-sender.js';
import { ThreadTransport } from './thread-transport.js';

const hubs: ThreadHub[] = [];
const open: ThreadTransport[] = [];

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  for (const h of hubs.splice(0)) h.close();
});

async function pair(ringBytes?: number): Promise<{ hub: ThreadHub; a: ThreadTransport; b: ThreadTransport }> {
  const hub = new ThreadHub();
  hubs.push(hub);
  const a = new ThreadTransport({ link: hub.link(), ringBytes });
  const b = new ThreadTransport({ link: hub.link(), ringBytes });
  open.push(a, b);
  await Promise.all([a.start(), b.start()]);
  return { hub, a, b };
}

/** Frames polled once `count` have arrived (waits on the readable listener, never on time). */
function collect(rx: { poll(): Frame | undefined; onReadable(l: () => void): void }, count: number): Promise<Frame[]> {
  const got: Frame[] = [];
  return new Promise((resolve) => {
    rx.onReadable(() => {
      for (let f = rx.poll(); f !== undefined; f = rx.poll()) got.push(f);
      if (got.length >= count) resolve(got);
    });
  });
}

async function send(tx: ChannelSender, frame: Frame): Promise<void> {
  while (!tx.trySend(frame)) await tx.whenWritable();
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}
registerType(Point, { name: 'test.Point', encode: (p: Point) => [p.x, p.y], decode: (d) => new Point((d as number[])[0], (d as number[])[1]) });

describe('ThreadTransport', () => {
  it('is reachable at thread://<pid>/<threadIndex>', async () => {
    const hub = new ThreadHub();
    hubs.push(hub);
    const link = hub.link(7);
    expect(link.endpoint).toBe(`thread://${process.pid}/7`);
    const t = new ThreadTransport({ link });
    open.push(t);
    expect(t.kind).toBe('threads');
    expect(t.endpoint).toBe(link.endpoint);
    expect(() => hub.link(7)).toThrow(/thread index 7 is in use/);
    expect(() => t.openReceiver('c', { credits: 2 })).toThrow(/not started/);
  });

  it('refuses endpoints of other processes and malformed ones with a TransportError naming them', async () => {
    const { a } = await pair();
    for (const bad of ['thread://1/0', 'tcp://127.0.0.1:5000', 'thread://x/y']) {
      let error: unknown;
      try {
        a.openSender('c', bad, { credits: 2 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).code).toBe('TRANSPORT_FAILED');
      expect((error as Error).message).toContain(bad);
    }
  });

  it('a sender to a thread index nobody linked hears it is gone: peer-lost and a closed channel', async () => {
    const { a } = await pair();
    const nobody = `thread://${process.pid}/99`;
    const lost = new Promise<string>((resolve) => a.on('peer-lost', resolve));
    const tx = a.openSender('c', nobody, { credits: 2 });
    expect(await lost).toBe(nobody);
    expect(tx.credits).toBe(0);
    expect(() => tx.trySend(makeFrame('c', 'data', 0, [1]))).toThrow(TransportError);
  });

  it('records keep their types: Map, Set, Date, BigInt, typed arrays, registered classes', async () => {
    const { a, b } = await pair();
    const rx = b.openReceiver('types', { credits: 4 });
    const got = collect(rx, 1);
    const record = {
      map: new Map<string, unknown>([['k', new Set([1, 2])]]),
      when: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      floats: new Float64Array([1.5, -0]),
      point: new Point(3, 4),
    };
    expect(a.openSender('types', b.endpoint, { credits: 4 }).trySend(makeFrame('types', 'data', 0, [record]))).toBe(true);
    const [frame] = await got;
    const r = frame.records![0] as typeof record;
    expect(r.map).toEqual(record.map);
    expect(r.when).toEqual(record.when);
    expect(r.big).toBe(record.big);
    expect(r.floats).toEqual(record.floats);
    expect(r.point).toBeInstanceOf(Point);
    expect(r.point).toEqual(record.point);
  });

  it('a record the codec refuses throws RecordTypeError from trySend and keeps the credit', async () => {
    const { a, b } = await pair();
    b.openReceiver('bad', { credits: 2 });
    const tx = a.openSender('bad', b.endpoint, { credits: 2 });
    expect(() => tx.trySend(makeFrame('bad', 'data', 0, [() => 1]))).toThrow(RecordTypeError);
    expect(tx.credits).toBe(2);
  });

  it('memory of a channel is bounded by its ring, whatever the credits', async () => {
    const { a, b } = await pair(4096);
    const rx = b.openReceiver('bound', { credits: 1000 });
    const tx = a.openSender('bound', b.endpoint, { credits: 1000 }) as ThreadSender;
    const text = 'y'.repeat(490); // a frame of about 1 KiB (UTF-16 columns): four fit the 4 KiB ring
    let accepted = 0;
    while (tx.trySend(makeFrame('bound', 'data', accepted, [text]))) accepted++;
    // Three in the ring, one more waiting for room, then no credit although 996 remain by count.
    expect(accepted).toBe(4);
    expect(tx.credits).toBe(0);
    expect(tx.unreadBytes).toBeLessThanOrEqual(4096 + 1100);
    expect(tx.ring.usedBytes).toBeLessThanOrEqual(4096);
    const got = collect(rx, 50);
    for (let seq = accepted; seq < 50; seq++) {
      await send(tx, makeFrame('bound', 'data', seq, [text]));
      expect(tx.unreadBytes).toBeLessThanOrEqual(4096 + 1100);
    }
    expect((await got).map((f) => f.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a frame larger than the ring goes in pieces and arrives whole, between ordinary frames', async () => {
    const { a, b } = await pair(4096);
    const rx = b.openReceiver('big', { credits: 4 });
    const tx = a.openSender('big', b.endpoint, { credits: 4 });
    const big = Array.from({ length: 200 }, (_, i) => `${i}:${'z'.repeat(250)}`); // about 51 KiB
    const got = collect(rx, 3);
    expect(tx.trySend(makeFrame('big', 'data', 0, ['before']))).toBe(true);
    expect(tx.trySend(makeFrame('big', 'data', 1, big))).toBe(true);
    expect(tx.credits, 'no credit while the big frame is not all in the ring').toBe(0);
    await send(tx, makeFrame('big', 'data', 201, ['after']));
    const frames = await got;
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 201]);
    expect(frames[1].records).toEqual(big);
  });

  it('frames of a closed sender are read before those of the sender that replaces it', async () => {
    const { a, b } = await pair();
    const rx = b.openReceiver('restart', { credits: 4 });
    const first = a.openSender('restart', b.endpoint, { credits: 4 });
    first.trySend(makeFrame('restart', 'data', 0, ['old']));
    first.close();
    const second = a.openSender('restart', b.endpoint, { credits: 4 });
    expect(second).not.toBe(first);
    second.trySend(makeFrame('restart', 'data', 1, ['new']));
    expect((await collect(rx, 2)).map((f) => f.records![0])).toEqual(['old', 'new']);
  });
});
