import { describe, expect, it } from 'vitest';
import { makeFrame, type Frame } from '@mobius/interface';
import { MsgpackCodec } from '@mobius/plugin-kit';
import { ColumnFrameCodec } from './column-frame-codec.js';

const codec = new ColumnFrameCodec();
const roundTrip = (frame: Frame): Frame => codec.decode(codec.encode(frame));

describe('ColumnFrameCodec', () => {
  it('carries [string, number] pairs, strings and numbers as columns, exactly', () => {
    const pairs = makeFrame('job/e:0->1', 'data', 4096, [['to', 1], ['be', 2.5], ['', -0], ['a-much-longer-word-than-thirteen', NaN], ['😀 é \ud800 lone', Infinity]]);
    const strings = makeFrame('job/e:1->0', 'data', 0, ['x', '', 'a string well over thirteen characters', '\udc00']);
    const numbers = makeFrame('job/é:0->0', 'data', 7, [0, -0, 1e300, -Infinity, NaN, 2 ** 53]);
    for (const f of [pairs, strings, numbers]) {
      const bytes = codec.encode(f);
      expect(bytes[0]).toBe(1); // the column layout, not msgpack
      const back = codec.decode(bytes);
      expect(back).toEqual(f);
    }
    expect(Object.is((roundTrip(pairs).records![2] as [string, number])[1], -0)).toBe(true);
    expect(Object.is(roundTrip(numbers).records![1], -0)).toBe(true);
  });

  it('sends every other frame as msgpack, the network codec, with its checks', () => {
    const others: Frame[] = [
      makeFrame('c', 'data', 0, [{ word: 'a' }, ['b', 1]]),
      makeFrame('c', 'data', 0, [['a', 1, 2]]),
      makeFrame('c', 'data', 0, [['a', '1']]),
      makeFrame('c', 'data', 0, ['a', 1]),
      makeFrame('c', 'data', 3, [new Map([['k', 1]])]),
      makeFrame('c', 'end', 9, null),
      makeFrame('c', 'data', 0, ['a'], null, 5),
    ];
    const msgpack = new MsgpackCodec();
    for (const f of others) {
      const bytes = codec.encode(f);
      expect(bytes).toEqual(msgpack.encode(f));
      expect(codec.decode(bytes)).toEqual(msgpack.decode(bytes));
    }
    class Point {
      constructor(readonly x: number) {}
    }
    expect(() => codec.encode(makeFrame('c', 'data', 0, [new Point(1)]))).toThrow(expect.objectContaining({ code: 'RECORD_TYPE_UNSUPPORTED' }));
  });

  it('sends a frame with record timestamps as msgpack, timestamps included', () => {
    const codec = new ColumnFrameCodec();
    const frame = makeFrame('e:0->1', 'data', 3, [['a', 1], ['b', 2]], null, null, null, [10, NaN]);
    const bytes = codec.encode(frame);
    expect(bytes[0]).not.toBe(1);
    const back = codec.decode(bytes);
    expect(back.records).toEqual([['a', 1], ['b', 2]]);
    expect(back.timestamps).toEqual([10, NaN]);
  });

  it('does not take a subclass of Array for a pair: it fails as on the network', () => {
    class Pair extends Array<unknown> {}
    const p = new Pair();
    p.push('a', 1);
    expect(() => codec.encode(makeFrame('c', 'data', 0, [p]))).toThrow(expect.objectContaining({ code: 'RECORD_TYPE_UNSUPPORTED' }));
  });

  it('refuses garbled column frames with FRAME_MALFORMED', () => {
    const good = codec.encode(makeFrame('job/e:0->0', 'data', 1, [['word', 1], ['other', 2]]));
    const cases = [good.subarray(0, 10), Uint8Array.from([1, 9, ...good.subarray(2)]), (() => { const b = Uint8Array.from(good); new DataView(b.buffer).setUint32(4, 1e6, true); return b; })()];
    for (const bad of cases) expect(() => codec.decode(bad)).toThrow(expect.objectContaining({ code: 'FRAME_MALFORMED' }));
    expect(() => codec.decode(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'FRAME_MALFORMED' }));
  });

  it('decodes a frame that is not 8-aligned in its buffer', () => {
    const bytes = codec.encode(makeFrame('c', 'data', 2, [['x', 3]]));
    const shifted = new Uint8Array(bytes.length + 3).subarray(3);
    shifted.set(bytes);
    expect(codec.decode(shifted).records).toEqual([['x', 3]]);
  });

  it('round-trips a full word count batch', () => {
    const words = Array.from({ length: 1024 }, (_, i) => [`w${(i * 7919) % 5000}`, 1] as [string, number]);
    const frame = makeFrame('job/e:0->1', 'data', 0, words);
    expect(codec.decode(codec.encode(frame)).records).toEqual(words);
  });
});
