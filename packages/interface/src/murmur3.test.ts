import { describe, it, expect } from 'vitest';
import { murmur3 } from './murmur3.js';

/** Independent reference: textbook MurmurHash3_x86_32 over a byte array. */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k = (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
    k = Math.imul(k, c1);
    k = ((k << 15) | (k >>> 17)) >>> 0;
    k = Math.imul(k, c2);
    h ^= k;
    h = ((h << 13) | (h >>> 19)) >>> 0;
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  const tail = blocks * 4;
  let k1 = 0;
  switch (bytes.length & 3) {
    case 3:
      k1 ^= bytes[tail + 2] << 16;
    // falls through
    case 2:
      k1 ^= bytes[tail + 1] << 8;
    // falls through
    case 1:
      k1 ^= bytes[tail];
      k1 = Math.imul(k1, c1);
      k1 = ((k1 << 15) | (k1 >>> 17)) >>> 0;
      k1 = Math.imul(k1, c2);
      h ^= k1;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();
const reference = (s: string, seed = 0): number => referenceMurmur3(utf8.encode(s), seed);

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random string mixing ASCII, Latin, CJK, emoji (surrogate pairs) and, optionally, lone surrogates. */
function randomString(rand: () => number, maxLength: number, loneSurrogates: boolean): string {
  const pools: (() => string)[] = [
    () => String.fromCharCode(0x20 + Math.floor(rand() * 95)), // ASCII
    () => String.fromCharCode(Math.floor(rand() * 0x80)), // incl. control chars and NUL
    () => String.fromCharCode(0x80 + Math.floor(rand() * 0x780)), // 2-byte UTF-8
    () => String.fromCharCode(0x4e00 + Math.floor(rand() * 0x5200)), // CJK, 3-byte
    () => String.fromCharCode(0xe000 + Math.floor(rand() * 0x2000)), // 3-byte above surrogates
    () => String.fromCodePoint(0x1f300 + Math.floor(rand() * 0x300)), // emoji, 4-byte
    () => String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff)), // any supplementary
  ];
  if (loneSurrogates) {
    pools.push(() => String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)));
  }
  const length = Math.floor(rand() * (maxLength + 1));
  let s = '';
  for (let i = 0; i < length; i++) s += pools[Math.floor(rand() * pools.length)]();
  return s;
}

describe('murmur3 (MurmurHash3_x86_32 over UTF-8)', () => {
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['hello', 0, 0x248bfa47],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['abc', 0, 0xb3dd93fa],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('murmur3(%j, %d) = known vector %d', (input, seed, expected) => {
    expect(murmur3(input, seed)).toBe(expected);
    expect(reference(input, seed)).toBe(expected); // the reference itself is right
  });

  it('defaults the seed to 0', () => {
    expect(murmur3('hello')).toBe(0x248bfa47);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'abcd', 'abcde', '中文', '😀']) {
      const h = murmur3(s, 42);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });

  it('hashes non-ASCII text as its UTF-8 bytes', () => {
    for (const s of ['é', 'ß', 'naïve café', '中文', '日本語のテキスト', '😀', 'a😀b', '👩‍👩‍👧‍👦', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u0000', '\uffff', '\u07ff\u0800']) {
      expect(murmur3(s), s).toBe(reference(s));
      expect(murmur3(s, 0x5d1b), s).toBe(reference(s, 0x5d1b));
    }
  });

  it('encodes lone surrogates as U+FFFD, like TextEncoder', () => {
    for (const s of ['\ud800', '\udfff', 'a\ud83d', '\ud83db', '\ude00\ud83d', '\ud83d\ud83d\ude00']) {
      expect(murmur3(s), JSON.stringify(s)).toBe(reference(s));
      expect(murmur3(s)).toBe(reference(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')));
    }
  });

  it('matches the reference implementation for many random strings (emoji, CJK, every tail length)', () => {
    const rand = prng(20240601);
    const mismatches: unknown[] = [];
    const tails = new Set<number>();
    let nonAscii = 0;
    for (let i = 0; i < 3000; i++) {
      const s = randomString(rand, 40, false);
      const seed = Math.floor(rand() * 2 ** 32);
      const bytes = utf8.encode(s);
      tails.add(bytes.length & 3);
      if (bytes.length !== s.length) nonAscii++;
      if (murmur3(s, seed) !== referenceMurmur3(bytes, seed)) mismatches.push({ s, seed });
    }
    expect(mismatches).toEqual([]);
    expect([...tails].sort()).toEqual([0, 1, 2, 3]);
    expect(nonAscii).toBeGreaterThan(2000);
  });

  it('matches the reference for random strings containing lone surrogates', () => {
    const rand = prng(7);
    const mismatches: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = randomString(rand, 20, true);
      if (murmur3(s, 0) !== reference(s, 0)) mismatches.push(s);
    }
    expect(mismatches).toEqual([]);
  });

  it('depends on the seed and on every byte', () => {
    expect(murmur3('key', 1)).not.toBe(murmur3('key', 2));
    expect(murmur3('abcd')).not.toBe(murmur3('abce'));
    expect(murmur3('abcde')).not.toBe(murmur3('abcdf'));
    expect(murmur3('a')).not.toBe(murmur3('a\u0000'));
  });
});

describe('murmur3 ASCII fast path', () => {
  it('matches the reference on ASCII keys of every length and on ASCII runs before, between and after other characters', () => {
    const enc = new TextEncoder();
    const samples: string[] = [];
    for (let n = 0; n <= 40; n++) samples.push('abcdefghijklmnopqrstuvwxyz0123456789-_/.'.slice(0, n));
    for (const mixed of ['abcdé', 'éabcd', 'abcd\u00e9efgh', 'word😀word', 'ab\ud800cd', 'abc\u4e2d\u6587defg', 'aaaa\u0080']) samples.push(mixed);
    let seed = 7;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = random() % 24;
      for (let j = 0; j < len; j++) s += random() % 5 === 0 ? String.fromCharCode(0x80 + (random() % 0x700)) : String.fromCharCode(0x20 + (random() % 0x5f));
      samples.push(s);
    }
    for (const s of samples) for (const seedValue of [0, 0x9747b28c]) expect(murmur3(s, seedValue), JSON.stringify(s)).toBe(referenceMurmur3(enc.encode(s), seedValue));
  });
});
