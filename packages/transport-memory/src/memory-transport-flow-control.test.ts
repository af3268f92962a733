import { afterEach, describe, expect, it } from 'vitest';
import { closeTransports, started, data, settle, pair } from './test-transports.js';

afterEach(closeTransports);

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
