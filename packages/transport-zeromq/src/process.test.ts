import { makeFrame } from '@mobius/interface';
import { sendWhenWritable, waitFor } from '@mobius/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { child, removeBundle, type Child } from './test-support/child.js';
import { ZmqTransport } from './zmq-transport.js';

const children: Child[] = [];
const transports: ZmqTransport[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

afterAll(() => removeBundle());

async function spawnChild(body: string, timeoutMs?: number): Promise<Child> {
  const c = await child(body, timeoutMs);
  children.push(c);
  return c;
}

/** A receiver process for channel `x` that prints its progress every 100 frames. */
const receiverBody = (options: object): string => `
const t = new T.ZmqTransport(${JSON.stringify(options)});
await t.start();
const rx = t.openReceiver('x', { credits: 8 });
let n = 0, first = -1, last = -1, bad = 0;
rx.onReadable(() => {
  for (let f = rx.poll(); f !== undefined; f = rx.poll()) {
    if (first < 0) first = f.seq;
    if (last >= 0 && f.seq !== last + 1) bad++;
    last = f.seq;
    n++;
    if (n % 100 === 0) console.log('got ' + n + ' first=' + first + ' last=' + last + ' bad=' + bad);
  }
});
console.log('endpoint ' + t.endpoint);
setInterval(() => {}, 1000);
`;

describe('process lifecycle', () => {
  it('after close() the process exits by itself (no handles left)', async () => {
    const c = await spawnChild(
      `
const a = new T.ZmqTransport();
const b = new T.ZmqTransport();
await a.start();
await b.start();
const rx = b.openReceiver('x', { credits: 8 });
const tx = a.openSender('x', b.endpoint, { credits: 8 });
let got = 0;
const done = new Promise((resolve) => rx.onReadable(() => { while (rx.poll() !== undefined) if (++got === 1000) resolve(); }));
for (let i = 0; i < 1000; i++) {
  const f = { channel: 'x', kind: 'data', seq: i, count: 1, records: [i], barrier: null, watermark: null, determinants: null };
  while (!tx.trySend(f)) await tx.whenWritable();
}
await done;
const server = new T.ZmqControlServer();
await server.start();
const client = new T.ZmqControlClient({ id: 'w', serverEndpoint: server.endpoint });
await client.start();
server.onRequest(() => ({ type: 'ok' }));
await client.request('', { type: 'ok' });
await Promise.all([a.close(), b.close(), client.close()]);
await server.close();
console.log('closed ' + got);
`,
      15_000,
    );
    const result = await c.done;
    expect(result.signal, `killed: the process did not exit by itself. stderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('closed 1000');
  }, 20_000);

  it('a sender whose peer never answered does not keep the process alive past closeTimeoutMs', async () => {
    const c = await spawnChild(
      `
const a = new T.ZmqTransport({ closeTimeoutMs: 300 });
await a.start();
const tx = a.openSender('x', 'tcp://127.0.0.1:1', { credits: 4 });
for (let i = 0; i < 4; i++) tx.trySend({ channel: 'x', kind: 'data', seq: i, count: 1, records: [i], barrier: null, watermark: null, determinants: null });
const t0 = Date.now();
await a.close();
console.log('closed after ' + (Date.now() - t0) + ' ms');
process.on('exit', () => console.log('exit after ' + (Date.now() - t0) + ' ms'));
`,
      10_000,
    );
    const result = await c.done;
    expect(result.signal, `killed: the process did not exit by itself. stderr: ${result.stderr}`).toBeNull();
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(8000);
    expect(result.stdout).toMatch(/closed after \d+ ms/);
  }, 15_000);

  it('a receiver process killed and restarted at the same endpoint: peer-lost, peer-reconnected, the same sender delivers again', async () => {
    const first = await spawnChild(receiverBody({}), 30_000);
    const endpoint = (await first.line((l) => l.startsWith('endpoint '), 'its endpoint')).slice('endpoint '.length);
    const a = new ZmqTransport({ peerTimeoutMs: 1000 });
    transports.push(a);
    await a.start();
    const events: string[] = [];
    a.on('peer-lost', (p) => events.push(`lost ${p}`));
    a.on('peer-reconnected', (p) => events.push(`back ${p}`));
    const tx = a.openSender('x', endpoint, { credits: 8 });
    for (let i = 0; i < 1000; i++) await sendWhenWritable(tx, makeFrame('x', 'data', i, [i]));
    expect(await first.line((l) => l.startsWith('got 1000 '), '1000 frames')).toBe('got 1000 first=0 last=999 bad=0');

    first.kill('SIGKILL'); // a crash: no CLOSE messages, no goodbye
    await first.done;
    await waitFor(() => events.includes(`lost ${endpoint}`), 'peer-lost');

    const second = await spawnChild(receiverBody({ endpoint }), 30_000);
    await second.line((l) => l === `endpoint ${endpoint}`, 'the same endpoint');
    await waitFor(() => events.includes(`back ${endpoint}`), 'peer-reconnected');
    // The sender was never closed; after the reconnect it starts a new credit epoch.
    for (let i = 1000; i < 1200; i++) await sendWhenWritable(tx, makeFrame('x', 'data', i, [i]));
    expect(await second.line((l) => l.startsWith('got 200 '), '200 frames')).toBe('got 200 first=1000 last=1199 bad=0');
    expect(events).toEqual([`lost ${endpoint}`, `back ${endpoint}`]);
  }, 40_000);
});
