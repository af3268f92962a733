import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('gives one text whatever the order keys were set in', () => {
    expect(canonicalJson({ x: 1, y: 'two' })).toBe(canonicalJson({ y: 'two', x: 1 }));
  });

  it('writes scalars as JSON does', () => {
    expect([null, 1.5, 'a"b', true].map(canonicalJson)).toEqual(['null', '1.5', '"a\\"b"', 'true']);
  });
});

describe('sha256Hex', () => {
  it('is the hex sha256 of a string or bytes', () => {
    const expected = createHash('sha256').update('abc').digest('hex');
    expect(sha256Hex('abc')).toBe(expected);
    expect(sha256Hex(Buffer.from('abc'))).toBe(expected);
  });
});
