import { Worker } from 'node:worker_threads';
import { TransportError, makeFrame, type Frame } from '@mobius/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ThreadHub } from './thread-hub.js';
import { ThreadTransport } from './thread-transport.js';
import type { ThreadSender } from './thread-sender.js';

// Real worker_threads through the hub. The workers run the built package (dist), as a task
// thread would.
const FIXTURE = new URL('./test-fixtures/thread-peer.mjs', import.meta.url);

interface Message {
  readonly t: string;
  readonly [key: string]: unknown;
}

const hubs: ThreadHub[] = [];
const workers: Worker[] = [];
const transports: ThreadTransport[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  for (const t of transports.splice(0)) await t.close();
  for (const h of hubs.splice(0)) h.close();
});

function newHub(): ThreadHub {
  const hub = new ThreadHub();
  hubs.push(hub);
  return hub;
}

/** A worker running the fixture as `role`, linked to the hub and watched by it. */
function spawn(hub: ThreadHub, data: Record<string, unknown>, threadIndex?: number): { worker: Worker; endpoint: string; index: number; next: (t: string) => Promise<Message> } {
  const link = hub.link(threadIndex);
  const worker = new Worker(FIXTURE, { workerData: { ...data, link }, transferList: [link.port] });
  hub.watch(link.threadIndex, worker);
  workers.push(worker);
  const inbox: Message[] = [];
  const waiting: { t: string; resolve: (m: Message) => void }[] = [];
  let failure: unknown;
  const fail = (e: unknown): void => {
    failure ??= e;
    for (const w of waiting.splice(0)) w.resolve({ t: 'failed', error: String(e) });
  };
  worker.on('message', (m: Message) => {
    const i = waiting.findIndex((w) => w.t === m.t);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
    else inbox.push(m);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
  const next = (t: string): Promise<Message> => {
    const i = inbox.findIndex((m) => m.t === t);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
    if (failure !== undefined) return Promise.resolve({ t: 'failed', error: String(failure) });
    return new Promise((resolve) => waiting.push({ t, resolve }));
  };
  return { worker, endpoint: link.endpoint, index: link.threadIndex, next };
}

/** Resolves with the first peer of `event` equal to `endpoint`. */
function peerEvent(t: ThreadTransport, event: 'peer-lost', endpoint: string): Promise<string> {
  return new Promise((resolve) => t.on(event, (p) => p === endpoint && resolve(p)));
}

async function mainTransport(hub: ThreadHub): Promise<ThreadTransport> {
  const t = new ThreadTransport({ link: hub.link() });
  transports.push(t);
  await t.start();
  return t;
}

describe('ThreadTransport between real worker threads', () => {
  it('delivers 100,000 frames in order from a sender thread to a receiver thread', async () => {
    const hub = newHub();
    const frames = 100_000;
    const rx = spawn(hub, { role: 'receive', channel: 'e:0->0', frames, credits: 64 });
    expect((await rx.next('ready')).t).toBe('ready');
    const tx = spawn(hub, { role: 'send', channel: 'e:0->0', target: rx.endpoint, frames, credits: 64 });
    const done = await rx.next('received');
    expect(done).toEqual({ t: 'received', count: frames, outOfOrder: 0, checksum: (frames * (frames - 1)) / 2 });
    const sent = await tx.next('sent');
    expect(sent.maxUnreadFrames as number).toBeLessThanOrEqual(64);
  }, 120_000);

  it('a slow reader holds the sender to the ring: memory stays under the ring size, not credits × frame size', async () => {
    const hub = newHub();
    const frames = 2_000;
    const ringBytes = 64 * 1024;
    const recordBytes = 1024;
    const recordsPerFrame = 8; // about 8.3 KiB a frame: the ring holds 7 of them, the credits would allow 1,000
    const rx = spawn(hub, { role: 'receive', channel: 'slow:0->0', frames, credits: 1000, recordBytes, recordsPerFrame, slow: true });
    await rx.next('ready');
    const tx = spawn(hub, { role: 'send', channel: 'slow:0->0', target: rx.endpoint, frames, credits: 1000, ringBytes, recordBytes, recordsPerFrame });
    const done = await rx.next('received');
    expect(done).toMatchObject({ count: frames, outOfOrder: 0 });
    const sent = await tx.next('sent');
    const frameBytes = recordsPerFrame * (recordBytes + 16);
    expect(sent.ringCapacity).toBe(ringBytes);
    expect(sent.waits as number, 'the sender was held back').toBeGreaterThan(0);
    // In the ring, plus at most one encoded frame waiting for room.
    expect(sent.maxUnreadBytes as number).toBeLessThanOrEqual(ringBytes + frameBytes);
    expect(sent.maxUnreadFrames as number).toBeLessThanOrEqual(Math.floor(ringBytes / frameBytes) + 1);
    expect(sent.maxUnreadFrames as number).toBeGreaterThan(1);
  }, 120_000);

  it('a receiver thread killed with worker.terminate() gives the sender peer-lost and a closed channel', async () => {
    const hub = newHub();
    const main = await mainTransport(hub);
    const rx = spawn(hub, { role: 'receive', channel: 'kill:0->0', frames: 1000, credits: 4 });
    await rx.next('ready');
    const tx = main.openSender('kill:0->0', rx.endpoint, { credits: 4 });
    expect(tx.trySend(makeFrame('kill:0->0', 'data', 0, [[0, 0, '']]))).toBe(true);
    expect(await rx.next('progress')).toEqual({ t: 'progress', count: 1 });
    const lost = peerEvent(main, 'peer-lost', rx.endpoint);
    await rx.worker.terminate();
    expect(await lost).toBe(rx.endpoint);
    expect(tx.credits).toBe(0);
    let error: unknown;
    try {
      tx.trySend(makeFrame('kill:0->0', 'data', 1, [[1, 0, '']]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('TRANSPORT_CLOSED');
    // A new channel to the gone thread is not refused here (a new thread may be back at its index
    // before this transport heard): the hub answers that nobody is there, and the channel closes.
    const late = main.openSender('kill:1->0', rx.endpoint, { credits: 4 }) as ThreadSender;
    await vi.waitFor(() => expect(late.isClosed).toBe(true), { timeout: 30_000 });
    expect(() => late.trySend(makeFrame('kill:1->0', 'data', 0, [1]))).toThrow(expect.objectContaining({ code: 'TRANSPORT_CLOSED' }));
  }, 60_000);

  it('a sender opened to an index whose thread came back reaches the new thread', async () => {
    const hub = newHub();
    const main = await mainTransport(hub);
    const first = spawn(hub, { role: 'receive', channel: 'back:0->0', frames: 1000, credits: 4 });
    await first.next('ready');
    const index = first.index;
    const lost = peerEvent(main, 'peer-lost', first.endpoint);
    main.openSender('back:0->0', first.endpoint, { credits: 4 });
    await first.worker.terminate();
    await lost;
    // The same index again, opened before the new thread started: this transport still has the
    // index down (no 'up' can have come yet); the hub holds the ring until the thread starts.
    const second = spawn(hub, { role: 'receive', channel: 'back:1->0', frames: 1000, credits: 4 }, index);
    const tx = main.openSender('back:1->0', second.endpoint, { credits: 4 });
    expect(tx.trySend(makeFrame('back:1->0', 'data', 0, [[0, 0, '']]))).toBe(true);
    expect(await second.next('progress')).toEqual({ t: 'progress', count: 1 });
  }, 60_000);

  it('a sender thread killed with worker.terminate() gives the receiver peer-lost; frames it sent stay readable', async () => {
    const hub = newHub();
    const main = await mainTransport(hub);
    const rx = main.openReceiver('dead:0->0', { credits: 8 });
    const arrived = new Promise<void>((resolve) => rx.onReadable(resolve));
    const tx = spawn(hub, { role: 'send', channel: 'dead:0->0', target: main.endpoint, frames: 3, credits: 8 });
    await tx.next('sent');
    await arrived;
    const lost = peerEvent(main, 'peer-lost', tx.endpoint);
    await tx.worker.terminate();
    expect(await lost).toBe(tx.endpoint);
    const got: Frame[] = [];
    for (let f = rx.poll(); f !== undefined; f = rx.poll()) got.push(f);
    expect(got.map((f) => f.seq)).toEqual([0, 1, 2]);
  }, 60_000);
});
