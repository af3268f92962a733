import { TransportError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { MAX_RING_BYTES, MIN_RING_BYTES, SharedFrameRing, ringCapacity } from './shared-frame-ring.js';

function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Byte-wise equality without vitest's element-by-element diffing (thousands of records). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

describe('SharedFrameRing', () => {
  it('rounds its size up to a power of two and refuses sizes out of range with a TransportError', () => {
    expect(ringCapacity(4096)).toBe(4096);
    expect(ringCapacity(5000)).toBe(8192);
    expect(SharedFrameRing.create(100_000).capacity).toBe(131_072);
    for (const bad of [0, MIN_RING_BYTES - 1, MAX_RING_BYTES + 1, 1.5, Number.NaN]) {
      expect(() => ringCapacity(bad)).toThrow(TransportError);
    }
    expect(() => ringCapacity(10)).toThrow(/ringBytes must be an integer in 4096\.\./);
    expect(() => new SharedFrameRing(new SharedArrayBuffer(1000))).toThrow(/not the buffer of a SharedFrameRing/);
  });

  it('keeps records intact and in order across many wrap-arounds of the ring', () => {
    const ring = SharedFrameRing.create(4096);
    const other = new SharedFrameRing(ring.buffer); // the consumer's view, as in another thread
    let written = 0;
    let read = 0;
    const lengths = [1, 3, 4, 5, 100, 1000, 2047, 7, 4092];
    for (let round = 0; round < 2000; round++) {
      const length = lengths[round % lengths.length];
      while (!ring.fits(length)) {
        const got = other.read();
        const want = lengths[read % lengths.length];
        if (!same(got, bytesOf(want, read))) expect.fail(`record #${read} (${want} bytes) differs`);
        expect(other.lastWasPiece).toBe(false);
        read++;
      }
      ring.write(bytesOf(length, written), 0, length, false);
      expect(ring.usedBytes).toBeLessThanOrEqual(ring.capacity);
      written++;
    }
    while (other.readable()) {
      if (!same(other.read(), bytesOf(lengths[read % lengths.length], read))) expect.fail(`record #${read} differs`);
      read++;
    }
    expect(read).toBe(written);
    expect(other.framesRead).toBe(written);
    expect(ring.usedBytes).toBe(0);
    expect(other.read()).toBeUndefined();
  });

  it('marks pieces, which return no frame credit until the last one', () => {
    const ring = SharedFrameRing.create(4096);
    ring.write(bytesOf(10, 1), 0, 8, true);
    ring.write(bytesOf(10, 1), 8, 10, false);
    expect(ring.read()).toEqual(bytesOf(10, 1).subarray(0, 8));
    expect(ring.lastWasPiece).toBe(true);
    expect(ring.framesRead).toBe(0);
    expect(ring.read()).toEqual(bytesOf(10, 1).subarray(8, 10));
    expect(ring.lastWasPiece).toBe(false);
    expect(ring.framesRead).toBe(1);
  });

  it('wakes a waiting reader when a record arrives, and a waiting writer when one is read', async () => {
    const ring = SharedFrameRing.create(4096);
    let readerWoken = 0;
    const reader = new Promise<void>((resolve) =>
      ring.whenReadable(() => {
        readerWoken++;
        resolve();
      }),
    );
    expect(readerWoken).toBe(0);
    ring.write(bytesOf(4, 0), 0, 4, false);
    await reader;
    expect(readerWoken).toBe(1);

    const writer = new Promise<void>((resolve) => ring.whenConsumed(ring.consumed, resolve));
    let writerWoken = false;
    void writer.then(() => (writerWoken = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writerWoken, 'not woken before a read').toBe(false);
    ring.read();
    await writer;
  });

  it('wakes a writer whose consumer read between its look at the ring and its wait', async () => {
    const ring = SharedFrameRing.create(4096);
    ring.write(bytesOf(8, 0), 0, 8, false);
    const seen = ring.consumed; // the writer looks: no room, say
    new SharedFrameRing(ring.buffer).read(); // the consumer reads; nobody waits yet, so no notify
    await new Promise<void>((resolve) => ring.whenConsumed(seen, resolve));
  });

  it('tells the writer when the receiver closes', async () => {
    const ring = SharedFrameRing.create(4096);
    const writer = new Promise<void>((resolve) => ring.whenConsumed(ring.consumed, resolve));
    expect(ring.receiverClosed).toBe(false);
    new SharedFrameRing(ring.buffer).closeReceiver();
    await writer;
    expect(ring.receiverClosed).toBe(true);
  });
});
