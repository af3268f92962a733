import { TransportError, makeFrame, type ChannelReceiver, type ChannelSender, type Frame } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryTransport, createMemoryTransport } from './memory-transport.js';

const open: MemoryTransport[] = [];

/** A transport closed after the test, so endpoint names can be reused. */
function transport(name?: string): MemoryTransport {
  const t = createMemoryTransport(name === undefined ? {} : { name });
  open.push(t);
  return t;
}

async function started(name?: string): Promise<MemoryTransport> {
  const t = transport(name);
  await t.start();
  return t;
}

afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

const data = (channel: string, seq: number): Frame<number> => makeFrame(channel, 'data', seq, [seq]);

/** Lets every pending promise reaction run (one turn of the event loop; not a timed wait). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

function expectTransportError(fn: () => unknown, code: string): TransportError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(TransportError);
  expect((e as TransportError).code).toBe(code);
  return e as TransportError;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** A receiver and a sender of one channel inside one transport. */
function pair(t: MemoryTransport, channel: string, credits: number): { rx: ChannelReceiver; tx: ChannelSender } {
  const rx = t.openReceiver(channel, { credits });
  const tx = t.openSender(channel, t.endpoint, { credits });
  return { rx, tx };
}

describe('MemoryTransport: lifecycle and endpoints', () => {
  it('is reachable at memory://<name>', () => {
    const t = transport('lifecycle-name');
    expect(t.kind).toBe('memory');
    expect(t.endpoint).toBe('memory://lifecycle-name');
    expect(new MemoryTransport({ name: 'x' }).endpoint).toBe('memory://x');
  });

  it('gets a unique endpoint when no name is given', () => {
    const a = transport();
    const b = transport();
    expect(a.endpoint).toMatch(/^memory:\/\/.+/);
    expect(a.endpoint).not.toBe(b.endpoint);
  });

  it('requires start() before opening channels', async () => {
    const t = transport('not-started');
    const e = expectTransportError(() => t.openReceiver('c', { credits: 2 }), 'TRANSPORT_FAILED');
    expect(e.message).toContain('start()');
    expectTransportError(() => t.openSender('c', t.endpoint, { credits: 2 }), 'TRANSPORT_FAILED');
    await t.start();
    expect(() => t.openReceiver('c', { credits: 2 })).not.toThrow();
  });

  it('start() twice is harmless', async () => {
    const t = await started('twice');
    await t.start();
    const { rx, tx } = pair(t, 'c', 2);
    expect(tx.trySend(data('c', 0))).toBe(true);
    expect(rx.poll()?.seq).toBe(0);
  });

  it('a duplicate endpoint name fails to start and leaves the first transport working', async () => {
    const first = await started('dup');
    const lost: string[] = [];
    const watcher = await started('dup-watcher');
    watcher.on('peer-lost', (p) => lost.push(p));
    const tx = watcher.openSender('c', 'memory://dup', { credits: 2 });
    const rx = first.openReceiver('c', { credits: 2 });

    const second = transport('dup');
    const e = await rejection(second.start());
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((e as TransportError).message).toContain('memory://dup');
    expectTransportError(() => second.openReceiver('c', { credits: 2 }), 'TRANSPORT_FAILED');

    // Closing the transport that never started neither unregisters nor reports the live one.
    await second.close();
    expect(lost).toEqual([]);
    expect(tx.trySend(data('c', 1))).toBe(true);
    expect(rx.poll()?.seq).toBe(1);
    expect(() => watcher.openSender('c2', 'memory://dup', { credits: 2 })).not.toThrow();
  });

  it('a closed transport cannot be started again nor open channels', async () => {
    const t = await started('closed-t');
    await t.close();
    expectTransportError(() => t.openReceiver('c', { credits: 2 }), 'TRANSPORT_CLOSED');
    expectTransportError(() => t.openSender('c', t.endpoint, { credits: 2 }), 'TRANSPORT_CLOSED');
    expect(await rejection(t.start())).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    const never = transport('closed-before-start');
    await never.close();
    const e = await rejection(never.start());
    expect(e).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    // The name was not taken by the closed transport.
    await expect(started('closed-before-start')).resolves.toBeInstanceOf(MemoryTransport);
  });

  it('openSender to an unknown endpoint throws TRANSPORT_PEER_LOST', async () => {
    const t = await started('lonely');
    const e = expectTransportError(() => t.openSender('c', 'memory://nobody-here', { credits: 2 }), 'TRANSPORT_PEER_LOST');
    expect(e.message).toContain('memory://nobody-here');
  });

  it('openSender to a closed transport throws TRANSPORT_PEER_LOST', async () => {
    const a = await started('sender-side');
    const b = await started('gone');
    await b.close();
    expectTransportError(() => a.openSender('c', 'memory://gone', { credits: 2 }), 'TRANSPORT_PEER_LOST');
  });

  it.each([0, -1, 1.5, Number.NaN])('credits %s is rejected with a TransportError', async (credits) => {
    const t = await started(`bad-credits`);
    const e = expectTransportError(() => t.openReceiver('c', { credits }), 'TRANSPORT_FAILED');
    expect(e.message).toContain('credits');
    expectTransportError(() => t.openSender('c2', t.endpoint, { credits }), 'TRANSPORT_FAILED');
  });
});

describe('MemoryTransport: delivery', () => {
  it('delivers frames in order, by reference', async () => {
    const t = await started('order');
    const { rx, tx } = pair(t, 'e:0->0', 16);
    expect(tx.channel).toBe('e:0->0');
    expect(rx.channel).toBe('e:0->0');
    const sent = Array.from({ length: 10 }, (_, i) => data('e:0->0', i));
    for (const f of sent) expect(tx.trySend(f)).toBe(true);
    const got: Frame[] = [];
    for (let f = rx.poll(); f !== undefined; f = rx.poll()) got.push(f);
    expect(got.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    got.forEach((f, i) => expect(f).toBe(sent[i]));
    expect(rx.poll()).toBeUndefined();
  });

  it('carries every kind of frame unchanged', async () => {
    const t = await started('kinds');
    const { rx, tx } = pair(t, 'c', 8);
    const frames = [
      makeFrame('c', 'data', 0, ['x', 'y']),
      makeFrame('c', 'barrier', 2, null, { checkpointId: 1, timestamp: 5, type: 'checkpoint' }),
      makeFrame('c', 'watermark', 2, null, null, 100),
      makeFrame('c', 'determinants', 2, null, null, null, [{ n: 0, kind: 'order', input: 0, count: 3, value: 0 }]),
      makeFrame('c', 'end', 2, null),
    ];
    for (const f of frames) tx.trySend(f);
    expect(frames.map(() => rx.poll())).toEqual(frames);
  });

  it('frames sent before the sender closes stay readable', async () => {
    const t = await started('sender-close');
    const { rx, tx } = pair(t, 'c', 4);
    tx.trySend(data('c', 0));
    tx.trySend(data('c', 1));
    tx.close();
    expect(rx.poll()?.seq).toBe(0);
    expect(rx.poll()?.seq).toBe(1);
  });

  it('a sender opened before its receiver reaches it', async () => {
    const t = await started('sender-first');
    const tx = t.openSender('c', t.endpoint, { credits: 2 });
    expect(tx.trySend(data('c', 7))).toBe(true);
    const rx = t.openReceiver('c', { credits: 2 });
    expect(rx.poll()?.seq).toBe(7);
  });

  it("two transports 'a' and 'b' send to each other by endpoint", async () => {
    const a = await started('a');
    const b = await started('b');
    const rxA = a.openReceiver('b->a', { credits: 4 });
    const rxB = b.openReceiver('a->b', { credits: 4 });
    const toB = a.openSender('a->b', 'memory://b', { credits: 4 });
    const toA = b.openSender('b->a', 'memory://a', { credits: 4 });
    const f1 = data('a->b', 1);
    const f2 = data('b->a', 2);
    expect(toB.trySend(f1)).toBe(true);
    expect(toA.trySend(f2)).toBe(true);
    expect(rxB.poll()).toBe(f1);
    expect(rxA.poll()).toBe(f2);
    expect(rxA.poll()).toBeUndefined();
    expect(rxB.poll()).toBeUndefined();
  });

  it('channels with the same id in two transports are distinct', async () => {
    const a = await started('same-id-a');
    const b = await started('same-id-b');
    const rxA = a.openReceiver('c', { credits: 4 });
    const rxB = b.openReceiver('c', { credits: 4 });
    a.openSender('c', b.endpoint, { credits: 4 }).trySend(data('c', 1));
    expect(rxA.poll()).toBeUndefined();
    expect(rxB.poll()?.seq).toBe(1);
  });

  it('200 channels at once deliver independently', async () => {
    const t = await started('many');
    const n = 200;
    const ends = Array.from({ length: n }, (_, i) => pair(t, `edge:${i}->0`, 3));
    const readable = new Array<number>(n).fill(0);
    ends.forEach(({ rx }, i) => rx.onReadable(() => readable[i]++));

    // Interleave: frame k of every channel before frame k+1 of any.
    for (let k = 0; k < 3; k++) {
      ends.forEach(({ tx }, i) => expect(tx.trySend(makeFrame(`edge:${i}->0`, 'data', k, [i * 1000 + k]))).toBe(true));
    }
    // Every channel is full on its own; the others do not lend it credits.
    ends.forEach(({ tx }) => {
      expect(tx.credits).toBe(0);
      expect(tx.trySend(data('x', 99))).toBe(false);
    });
    expect(readable.every((c) => c === 1)).toBe(true);

    // Drain in reverse order: each channel holds exactly its own frames, in order.
    for (let i = n - 1; i >= 0; i--) {
      const { rx, tx } = ends[i];
      const got = [rx.poll(), rx.poll(), rx.poll(), rx.poll()];
      expect(got[3]).toBeUndefined();
      expect(got.slice(0, 3).map((f) => [f!.channel, f!.seq, f!.records![0]])).toEqual([
        [`edge:${i}->0`, 0, i * 1000],
        [`edge:${i}->0`, 1, i * 1000 + 1],
        [`edge:${i}->0`, 2, i * 1000 + 2],
      ]);
      expect(tx.credits).toBe(3);
      if (i > 0) expect(ends[i - 1].tx.credits).toBe(0);
    }
  });
});

describe('MemoryTransport: credits', () => {
  it('with credits 4, four trySend succeed, then false; the counter follows', async () => {
    const t = await started('credits');
    const { rx, tx } = pair(t, 'c', 4);
    expect(tx.credits).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(tx.trySend(data('c', i))).toBe(true);
      expect(tx.credits).toBe(3 - i);
    }
    expect(tx.trySend(data('c', 4))).toBe(false);
    expect(tx.credits).toBe(0);

    // The refused frame was not queued.
    expect(rx.poll()?.seq).toBe(0);
    expect(tx.credits).toBe(1);
    expect(tx.trySend(data('c', 5))).toBe(true);
    expect([rx.poll(), rx.poll(), rx.poll(), rx.poll(), rx.poll()].map((f) => f?.seq)).toEqual([1, 2, 3, 5, undefined]);
    expect(tx.credits).toBe(4);
  });

  it('whenWritable resolves at once while credits remain', async () => {
    const t = await started('writable-now');
    const { tx } = pair(t, 'c', 2);
    tx.trySend(data('c', 0));
    await expect(tx.whenWritable()).resolves.toBeUndefined();
  });

  it('whenWritable resolves only after the receiver polls', async () => {
    const t = await started('writable-later');
    const { rx, tx } = pair(t, 'c', 4);
    for (let i = 0; i < 4; i++) tx.trySend(data('c', i));
    let resolved = 0;
    const first = tx.whenWritable().then(() => resolved++);
    const second = tx.whenWritable().then(() => resolved++);
    await settle();
    expect(resolved).toBe(0);
    expect(tx.trySend(data('c', 4))).toBe(false);

    expect(rx.poll()?.seq).toBe(0);
    await Promise.all([first, second]);
    expect(resolved).toBe(2);
    expect(tx.trySend(data('c', 4))).toBe(true);
  });

  it('whenWritable resolves when the receiver closes the channel', async () => {
    const t = await started('writable-close');
    const { rx, tx } = pair(t, 'c', 1);
    tx.trySend(data('c', 0));
    const waiting = tx.whenWritable();
    rx.close();
    await waiting;
    expect(tx.credits).toBe(0);
  });
});

describe('MemoryTransport: onReadable', () => {
  it('fires when a frame arrives on an empty queue, not for each frame', async () => {
    const t = await started('readable');
    const { rx, tx } = pair(t, 'c', 8);
    let calls = 0;
    rx.onReadable(() => calls++);
    expect(calls).toBe(0);
    tx.trySend(data('c', 0));
    expect(calls).toBe(1);
    tx.trySend(data('c', 1));
    expect(calls).toBe(1);
    rx.poll();
    tx.trySend(data('c', 2));
    expect(calls).toBe(1);
    rx.poll();
    rx.poll();
    expect(rx.poll()).toBeUndefined();
    tx.trySend(data('c', 3));
    expect(calls).toBe(2);
  });

  it('fires at once on registration when frames are already queued', async () => {
    const t = await started('readable-queued');
    const { rx, tx } = pair(t, 'c', 8);
    tx.trySend(data('c', 0));
    let calls = 0;
    rx.onReadable(() => calls++);
    expect(calls).toBe(1);
  });

  it('a listener may poll from inside the callback', async () => {
    const t = await started('readable-reentrant');
    const { rx, tx } = pair(t, 'c', 1);
    const got: number[] = [];
    rx.onReadable(() => {
      for (let f = rx.poll(); f !== undefined; f = rx.poll()) got.push(f.seq);
    });
    for (let i = 0; i < 5; i++) expect(tx.trySend(data('c', i))).toBe(true);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('one listener per receiver: a new registration replaces the old one', async () => {
    const t = await started('readable-replace');
    const { rx, tx } = pair(t, 'c', 4);
    const calls: string[] = [];
    rx.onReadable(() => calls.push('old'));
    rx.onReadable(() => calls.push('new'));
    tx.trySend(data('c', 0));
    expect(calls).toEqual(['new']);
  });
});

describe('MemoryTransport: closing', () => {
  it('trySend on a channel whose receiver closed throws TRANSPORT_CLOSED', async () => {
    const t = await started('closed-channel');
    const { rx, tx } = pair(t, 'c', 4);
    tx.trySend(data('c', 0));
    rx.close();
    expect(tx.credits).toBe(0);
    const e = expectTransportError(() => tx.trySend(data('c', 1)), 'TRANSPORT_CLOSED');
    expect(e.message).toContain('c');
    expect(rx.poll()).toBeUndefined();
  });

  it('a channel id can be opened again after its receiver closed', async () => {
    const t = await started('reopen');
    const first = pair(t, 'c', 2);
    first.rx.close();
    const second = pair(t, 'c', 2);
    expect(second.tx.trySend(data('c', 1))).toBe(true);
    expect(second.rx.poll()?.seq).toBe(1);
    expectTransportError(() => first.tx.trySend(data('c', 2)), 'TRANSPORT_CLOSED');
  });

  it('closing a transport closes its channels and wakes their readers', async () => {
    const a = await started('close-a');
    const b = await started('close-b');
    const rx = b.openReceiver('c', { credits: 2 });
    const tx = a.openSender('c', b.endpoint, { credits: 2 });
    let woken = 0;
    rx.onReadable(() => woken++);
    await b.close();
    expect(woken).toBe(1);
    expect(rx.poll()).toBeUndefined();
    expectTransportError(() => tx.trySend(data('c', 0)), 'TRANSPORT_CLOSED');
  });

  it("emits 'peer-lost' on transports that had senders to it, then 'peer-reconnected' when one starts again", async () => {
    const a = await started('peer-a');
    const c = await started('peer-c');
    const b = await started('peer-b');
    const events: string[] = [];
    a.on('peer-lost', (p) => events.push(`a lost ${p}`));
    a.on('peer-reconnected', (p) => events.push(`a reconnected ${p}`));
    c.on('peer-lost', (p) => events.push(`c lost ${p}`));
    b.openReceiver('c', { credits: 2 });
    a.openSender('c', 'memory://peer-b', { credits: 2 });

    await b.close();
    expect(events).toEqual(['a lost memory://peer-b']);
    await b.close();
    expect(events).toHaveLength(1);

    const b2 = await started('peer-b');
    expect(events).toEqual(['a lost memory://peer-b', 'a reconnected memory://peer-b']);
    const rx = b2.openReceiver('c', { credits: 2 });
    const tx = a.openSender('c', 'memory://peer-b', { credits: 2 });
    expect(tx.trySend(data('c', 0))).toBe(true);
    expect(rx.poll()?.seq).toBe(0);
  });

  it('every listener of an event is called', async () => {
    const a = await started('listeners-a');
    const b = await started('listeners-b');
    a.openSender('c', b.endpoint, { credits: 1 });
    const seen: string[] = [];
    a.on('peer-lost', (p) => seen.push(`1:${p}`));
    a.on('peer-lost', (p) => seen.push(`2:${p}`));
    await b.close();
    expect(seen).toEqual(['1:memory://listeners-b', '2:memory://listeners-b']);
  });
});

describe('MemoryTransport: bounded memory', () => {
  it('100k frames through one channel never queue more than its credits', async () => {
    const t = await started('bounded');
    const total = 100_000;
    const capacity = 8;
    const rx = t.openReceiver('c', { credits: capacity });
    const tx = t.openSender('c', t.endpoint, { credits: capacity });
    const channel = t.channel('c', { credits: capacity });
    expect(channel.receiverCredits).toBe(capacity);

    let maxQueued = 0;
    let received = 0;
    let outOfOrder = 0;
    let waits = 0;
    let creditMismatches = 0;

    // A consumer slower than the producer: at most 3 frames per event-loop turn.
    const consumed = new Promise<void>((resolve) => {
      let scheduled = false;
      const drain = (): void => {
        scheduled = false;
        for (let i = 0; i < 3; i++) {
          const f = rx.poll();
          if (f === undefined) break;
          if (f.seq !== received) outOfOrder++;
          received++;
        }
        if (received === total) resolve();
        else if (channel.queued > 0) schedule();
      };
      const schedule = (): void => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(drain);
      };
      rx.onReadable(schedule);
    });

    const produced = (async () => {
      for (let seq = 0; seq < total; seq++) {
        const frame = makeFrame('c', 'data', seq, [seq]);
        while (!tx.trySend(frame)) {
          waits++;
          await tx.whenWritable();
        }
        maxQueued = Math.max(maxQueued, channel.queued);
        if (tx.credits !== capacity - channel.queued) creditMismatches++;
      }
    })();

    await Promise.all([produced, consumed]);
    expect(received).toBe(total);
    expect(outOfOrder).toBe(0);
    expect(creditMismatches).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(capacity);
    expect(maxQueued).toBe(capacity); // the producer really was held back
    expect(waits).toBeGreaterThan(0);
    // White box: the backing array is compacted, so it does not grow with the frames sent.
    expect((channel as unknown as { queue: { items: unknown[] } }).queue.items.length).toBeLessThanOrEqual(capacity + 1025);
    expect(channel.queued).toBe(0);
  }, 30_000);
});
