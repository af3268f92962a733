import { TransportError, makeFrame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { InProcessChannel } from './in-process-channel.js';

const frame = (seq: number) => makeFrame('c', 'data', seq, [seq]);

describe('InProcessChannel', () => {
  it('passes frames by reference, in order, with credits back on poll', async () => {
    const ch = new InProcessChannel('c');
    const tx = ch.connect(2);
    const f0 = frame(0);
    expect(tx.trySend(f0)).toBe(true);
    expect(tx.trySend(frame(1))).toBe(true);
    expect(tx.trySend(frame(2))).toBe(false);
    expect(tx.credits).toBe(0);
    const writable = tx.whenWritable();
    expect(ch.poll()).toBe(f0);
    await writable;
    expect(tx.credits).toBe(1);
    expect(ch.poll()!.seq).toBe(1);
    expect(tx.credits).toBe(2);
  });

  it('a listener that polls inside trySend keeps the credits exact', () => {
    const ch = new InProcessChannel('c');
    const tx = ch.connect(1);
    const got: number[] = [];
    ch.onReadable(() => {
      for (let f = ch.poll(); f !== undefined; f = ch.poll()) got.push(f.seq);
    });
    for (let i = 0; i < 10; i++) expect(tx.trySend(frame(i))).toBe(true);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tx.credits).toBe(1);
  });

  it('closing the receiver closes the sender and runs onClose once', async () => {
    let closes = 0;
    const ch = new InProcessChannel('c', () => closes++);
    const tx = ch.connect(1);
    tx.trySend(frame(0));
    const writable = tx.whenWritable();
    ch.close();
    await writable;
    expect(closes).toBe(1);
    expect(tx.credits).toBe(0);
    expect(() => tx.trySend(frame(1))).toThrow(TransportError);
    expect(() => ch.connect(1).trySend(frame(2))).toThrow(TransportError); // a sender of a closed channel starts closed
  });

  it('closing the sender changes nothing: its frames stay readable and it may go on sending', () => {
    const ch = new InProcessChannel('c');
    const tx = ch.connect(2);
    tx.trySend(frame(0));
    tx.close();
    expect(ch.isClosed).toBe(false);
    expect(tx.trySend(frame(1))).toBe(true);
    expect([ch.poll()!.seq, ch.poll()!.seq]).toEqual([0, 1]);
  });

  it('every connect gets the one sending end, with the credits of the first', () => {
    const ch = new InProcessChannel('c');
    const first = ch.connect(2);
    first.trySend(frame(0));
    const second = ch.connect(5);
    expect(second).toBe(first);
    expect(second.credits).toBe(1); // capacity 2, one frame queued
    expect(second.trySend(frame(1))).toBe(true);
    expect(first.trySend(frame(2))).toBe(false);
    expect(ch.poll()!.seq).toBe(0);
    expect(first.credits).toBe(1);
  });
});
