import { TransportError, isIdleMarker, makeFrame, makeWatermarkFrame } from '@mobius/interface';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MsgpackCodec } from './msgpack-codec.js';

const codec = new MsgpackCodec();
const raw = new Packr({ useRecords: false });

/** The wire layout of a frame, to be broken field by field. */
const valid = (): unknown[] => ['e:0->1', 'data', 0, 2, ['a', 'b'], null, null, null];

function malformed(value: unknown): TransportError {
  try {
    codec.decode(raw.pack(value));
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('FRAME_MALFORMED');
    return e as TransportError;
  }
  throw new Error(`decode accepted ${JSON.stringify(value)}`);
}

function withField(index: number, value: unknown): unknown[] {
  const v = valid();
  v[index] = value;
  return v;
}

describe('MsgpackCodec', () => {
  it('is named msgpack and decodes its own layout', () => {
    expect(codec.name).toBe('msgpack');
    expect(codec.decode(raw.pack(valid()))).toEqual(makeFrame('e:0->1', 'data', 0, ['a', 'b']));
  });

  it('writes plain msgpack that another msgpack reader understands', () => {
    const frame = makeFrame('c', 'data', 7, [{ word: 'hello', n: 3 }]);
    expect(raw.unpack(codec.encode(frame) as Buffer)).toEqual(['c', 'data', 7, 1, [{ word: 'hello', n: 3 }], null, null, null]);
  });

  it('round-trips record values beyond JSON: dates, binary, bigint, undefined, nested arrays', () => {
    const records = [{ at: new Date(1_700_000_000_000), bytes: new Uint8Array([1, 2, 3]), big: 2n ** 70n, small: 5n, none: undefined, deep: [[[1]]] }];
    const back = codec.decode(codec.encode(makeFrame('c', 'data', 0, records)));
    const r = back.records![0] as (typeof records)[number];
    expect(r.at).toEqual(new Date(1_700_000_000_000));
    expect([...r.bytes]).toEqual([1, 2, 3]);
    expect(r.big).toBe(2n ** 70n);
    expect(r.small).toBe(5n);
    expect('none' in r && r.none === undefined).toBe(true);
    expect(r.deep).toEqual([[[1]]]);
  });

  it('carries record timestamps (NaN for a record without) as a ninth field, only when there are any', () => {
    const frame = makeFrame('c', 'data', 4, ['a', 'b', 'c'], null, null, null, [1_700_000_000_000, NaN, -5]);
    const bytes = codec.encode(frame);
    expect((raw.unpack(bytes as Buffer) as unknown[]).length).toBe(9);
    const back = codec.decode(bytes);
    expect(back.timestamps).toEqual([1_700_000_000_000, NaN, -5]);
    expect(back.records).toEqual(['a', 'b', 'c']);
    expect(codec.decode(codec.encode(makeFrame('c', 'data', 0, ['x']))).timestamps).toBeNull();
  });

  it('rejects timestamps that do not match the records', () => {
    expect(() => codec.decode(raw.pack(['c', 'data', 0, 2, ['a', 'b'], null, null, null, [1]]))).toThrow(/timestamps must be an array of 2 numbers/);
    expect(() => codec.decode(raw.pack(['c', 'data', 0, 1, ['a'], null, null, null, ['1']]))).toThrow(/FRAME_MALFORMED|timestamps/);
  });

  it('carries an idle marker (a watermark frame without a watermark)', () => {
    const back = codec.decode(codec.encode(makeWatermarkFrame('c', 9, null)));
    expect(isIdleMarker(back)).toBe(true);
    expect(back.seq).toBe(9);
  });

  it('keeps every field in the order makeFrame uses', () => {
    const back = codec.decode(codec.encode(makeFrame('c', 'watermark', 3, null, null, 99)));
    expect(Object.keys(back)).toEqual(Object.keys(makeFrame('c', 'watermark', 3, null, null, 99)));
  });

  it('encodes a frame as one msgpack value: the bytes are one unpackable value', () => {
    const frame = makeFrame('c', 'data', 0, Array.from({ length: 1000 }, (_, i) => ({ i })));
    const bytes = codec.encode(frame);
    expect(raw.unpackMultiple(bytes as Buffer)).toHaveLength(1);
  });

  it.each([
    ['a map instead of an array', { channel: 'c' }],
    ['a string', 'frame'],
    ['an array of 7 fields', valid().slice(0, 7)],
    ['an array of 9 fields', [...valid(), null]],
    ['a numeric channel', withField(0, 5)],
    ['an empty channel', withField(0, '')],
    ['an unknown kind', withField(1, 'bogus')],
    ['a numeric kind', withField(1, 1)],
    ['a negative seq', withField(2, -1)],
    ['a fractional seq', withField(2, 1.5)],
    ['a string seq', withField(2, '1')],
    ['a negative count', withField(3, -2)],
    ['a count that does not match the records', withField(3, 3)],
    ['records that are not an array', withField(4, 'ab')],
    ['a data frame without records', ['c', 'data', 0, 0, null, null, null, null]],
    ['a barrier frame without a barrier', ['c', 'barrier', 0, 0, null, null, null, null]],
    ['a barrier of an unknown type', ['c', 'barrier', 0, 0, null, { checkpointId: 1, timestamp: 1, type: 'other' }, null, null]],
    ['a barrier with a negative id', ['c', 'barrier', 0, 0, null, { checkpointId: -1, timestamp: 1, type: 'checkpoint' }, null, null]],
    ['a barrier that is an array', ['c', 'barrier', 0, 0, null, [1, 2, 'checkpoint'], null, null]],
    ['a string watermark', ['c', 'watermark', 0, 0, null, null, '5', null]],
    ['a determinants frame without determinants', ['c', 'determinants', 0, 0, null, null, null, null]],
    ['determinants with a bad run', ['c', 'determinants', 0, 0, null, null, null, [{ input: 0, count: -1 }]]],
    ['determinants that are not an array', ['c', 'determinants', 0, 0, null, null, null, { input: 0, count: 1 }]],
  ])('rejects %s with FRAME_MALFORMED', (_what, value) => {
    malformed(value);
  });

  it('rejects a count beyond maxRecords', () => {
    const small = new MsgpackCodec({ maxRecords: 2 });
    expect(() => small.decode(raw.pack(['c', 'data', 0, 3, [1, 2, 3], null, null, null]))).toThrow(TransportError);
    expect(small.decode(raw.pack(['c', 'data', 0, 2, [1, 2], null, null, null])).count).toBe(2);
  });

  it('rejects bad msgpack, truncation and trailing bytes with FRAME_MALFORMED, naming the problem', () => {
    const bytes = codec.encode(makeFrame('c', 'data', 0, ['x']));
    expect(malformedBytes(new Uint8Array([0xc1]))).toMatch(/malformed frame/);
    expect(malformedBytes(bytes.subarray(0, bytes.length - 1))).toMatch(/bad msgpack/);
    expect(malformedBytes(Buffer.concat([bytes, Buffer.from([0])]))).toMatch(/bad msgpack/);
    expect(malformedBytes(new Uint8Array(0))).toMatch(/empty/);
    expect(malformedBytes('not bytes' as unknown as Uint8Array)).toMatch(/expected bytes/);
  });

  it('throws FRAME_MALFORMED for records it cannot encode (a cycle), leaving the codec usable', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let error: unknown;
    try {
      codec.encode(makeFrame('c', 'data', 0, [cyclic]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('FRAME_MALFORMED');
    expect(codec.decode(codec.encode(makeFrame('c', 'data', 0, [1]))).records).toEqual([1]);
  });
});

function malformedBytes(bytes: Uint8Array): string {
  try {
    codec.decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('FRAME_MALFORMED');
    return (e as Error).message;
  }
  throw new Error('decode accepted the bytes');
}
