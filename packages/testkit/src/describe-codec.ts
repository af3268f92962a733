import { TransportError, makeFrame, type Codec, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { prng, randomBytes } from './helpers.js';

const KINDS = new Set(['data', 'barrier', 'watermark', 'determinants', 'end']);

/** Frames of every kind, with records of every JSON-like type. */
export function sampleFrames(channel = 'edge-1:0->1'): Frame[] {
  return [
    makeFrame(channel, 'data', 0, [1, -2, 3.25, 'text', 'ünïcødé ✓', true, false, null, [1, [2, [3]]], { a: 1, b: { c: 'd' }, e: [] }]),
    makeFrame(channel, 'data', 10, []),
    // Records with their event times (a ninth field on msgpack's wire).
    makeFrame(channel, 'data', 20, ['a', { b: 1 }], null, null, null, [1_700_000_000_000, -5]),
    makeFrame(channel, 'data', Number.MAX_SAFE_INTEGER - 1, [{ big: Number.MAX_SAFE_INTEGER, small: Number.MIN_SAFE_INTEGER, tiny: 1e-300 }]),
    makeFrame(channel, 'barrier', 11, null, { checkpointId: 3, timestamp: 1_700_000_000_123, type: 'checkpoint' }),
    makeFrame(channel, 'barrier', 11, null, { checkpointId: 4, timestamp: 0, type: 'savepoint' }),
    makeFrame(channel, 'barrier', 11, null, { checkpointId: 5, timestamp: 1, type: 'rescale' }),
    makeFrame(channel, 'watermark', 11, null, null, 1_700_000_000_000),
    makeFrame(channel, 'watermark', 11, null, null, -1),
    makeFrame(channel, 'determinants', 11, null, null, null, [
      { n: 0, kind: 'order', input: 0, count: 3, value: 0 },
      { n: 1, kind: 'time', input: 0, count: 0, value: 1_700_000_000_123 },
      { n: 2, kind: 'random', input: 0, count: 0, value: 0.25 },
      { n: 3, kind: 'order', input: 2, count: 1, value: 0 },
    ]),
    makeFrame(channel, 'end', 11, null),
  ];
}

function expectMalformed(fn: () => unknown, what: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `${what}: decode should throw`).toBeInstanceOf(TransportError);
  expect((error as TransportError).code, what).toBe('FRAME_MALFORMED');
}

/** Whether `f` has the shape of a Frame (what a decoder may return for lucky random input). */
function isFrameShaped(f: unknown): boolean {
  if (typeof f !== 'object' || f === null) return false;
  const frame = f as Frame;
  return (
    typeof frame.channel === 'string' &&
    KINDS.has(frame.kind) &&
    Number.isInteger(frame.seq) &&
    frame.seq >= 0 &&
    Number.isInteger(frame.count) &&
    frame.count >= 0 &&
    (frame.records === null ? frame.count === 0 : Array.isArray(frame.records) && frame.records.length === frame.count)
  );
}

/**
 * Defines a vitest `describe` block with the tests every frame codec must pass: every frame
 * kind round-trips, and malformed, truncated or trailing input throws `TransportError`
 * `FRAME_MALFORMED` (never another error, never a crash).
 */
export function describeCodec(name: string, codec: Codec): void {
  describe(`codec compliance: ${name}`, () => {
    it('has a name', () => {
      expect(typeof codec.name).toBe('string');
      expect(codec.name.length).toBeGreaterThan(0);
    });

    it.each(sampleFrames().map((f, i) => [`#${i} ${f.kind}`, f] as const))('round-trips frame %s', (_label, frame) => {
      const bytes = codec.encode(frame);
      expect(bytes).toBeInstanceOf(Uint8Array);
      const back = codec.decode(bytes);
      expect(back).toEqual(frame);
      // Every field present, as makeFrame makes them.
      expect(Object.keys(back).sort()).toEqual(['barrier', 'channel', 'count', 'determinants', 'kind', 'records', 'seq', 'timestamps', 'watermark']);
    });

    it('decodes a copy of the bytes (no reliance on the encoder buffer)', () => {
      const frames = sampleFrames();
      const copies = frames.map((f) => Uint8Array.from(codec.encode(f)));
      copies.forEach((bytes, i) => expect(codec.decode(bytes)).toEqual(frames[i]));
    });

    it('rejects every truncation of a frame with FRAME_MALFORMED', () => {
      for (const frame of sampleFrames()) {
        const bytes = codec.encode(frame);
        const step = Math.max(1, Math.floor(bytes.length / 200));
        for (let len = 0; len < bytes.length; len += step) expectMalformed(() => codec.decode(bytes.subarray(0, len)), `${frame.kind} frame cut to ${len} of ${bytes.length} bytes`);
      }
    });

    it('rejects trailing bytes with FRAME_MALFORMED', () => {
      const bytes = codec.encode(sampleFrames()[0]);
      const longer = new Uint8Array(bytes.length + 3);
      longer.set(bytes);
      longer.set([1, 2, 3], bytes.length);
      expectMalformed(() => codec.decode(longer), 'frame followed by 3 bytes');
    });

    it('rejects random bytes with FRAME_MALFORMED (or returns a well-formed frame), never another error', () => {
      const random = prng(0xc0dec);
      for (let i = 0; i < 2000; i++) {
        const bytes = randomBytes(random, 1 + Math.floor(random() * 64));
        let result: unknown;
        try {
          result = codec.decode(bytes);
        } catch (e) {
          expect(e, `random input #${i}`).toBeInstanceOf(TransportError);
          expect((e as TransportError).code).toBe('FRAME_MALFORMED');
          continue;
        }
        expect(isFrameShaped(result), `random input #${i} decoded to ${JSON.stringify(result)}`).toBe(true);
      }
    });

    it('rejects flipped bytes of a valid frame with FRAME_MALFORMED (or returns a well-formed frame)', () => {
      const random = prng(0xf11b);
      const frames = sampleFrames();
      for (let i = 0; i < 1000; i++) {
        const bytes = Uint8Array.from(codec.encode(frames[i % frames.length]));
        bytes[Math.floor(random() * bytes.length)] ^= 1 + Math.floor(random() * 255);
        let result: unknown;
        try {
          result = codec.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TransportError);
          expect((e as TransportError).code).toBe('FRAME_MALFORMED');
          continue;
        }
        expect(isFrameShaped(result), `flipped input #${i} decoded to ${JSON.stringify(result)}`).toBe(true);
      }
    });

    it('rejects an empty input with FRAME_MALFORMED', () => {
      expectMalformed(() => codec.decode(new Uint8Array(0)), 'empty input');
    });
  });
}
