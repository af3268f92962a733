import { makeFrame, type Frame } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTransports, started, data, pair } from './test-transports.js';

afterEach(closeTransports);

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
