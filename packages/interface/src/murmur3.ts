/**
 * MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of a string, encoded on the fly so that
 * hashing a key allocates nothing. The same input gives the same hash in every process.
 */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function murmur3(str: string, seed = 0): number {
  let h = seed | 0;
  let k = 0;
  let shift = 0;
  let length = 0;
  let i = 0;
  // ASCII fast path (most keys): four characters make one block, with no per-byte loop. It
  // stops at the first non-ASCII character, where the general loop below takes over.
  const blocks = str.length - 3;
  while (i < blocks) {
    const c0 = str.charCodeAt(i);
    const c1 = str.charCodeAt(i + 1);
    const c2 = str.charCodeAt(i + 2);
    const c3 = str.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) break;
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
    i += 4;
    length += 4;
  }
  for (; i < str.length; i++) {
    let c = str.charCodeAt(i);
    // Up to 4 UTF-8 bytes per code point, packed little-endian into 32-bit blocks.
    let bytes: number;
    let n: number;
    if (c < 0x80) {
      bytes = c;
      n = 1;
    } else if (c < 0x800) {
      bytes = (0xc0 | (c >> 6)) | ((0x80 | (c & 63)) << 8);
      n = 2;
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < str.length && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (str.charCodeAt(++i) - 0xdc00);
      bytes = (0xf0 | (c >> 18)) | ((0x80 | ((c >> 12) & 63)) << 8) | ((0x80 | ((c >> 6) & 63)) << 16) | ((0x80 | (c & 63)) << 24);
      n = 4;
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate: encoded as U+FFFD, like TextEncoder
      bytes = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 63)) << 8) | ((0x80 | (c & 63)) << 16);
      n = 3;
    }
    length += n;
    for (let b = 0; b < n; b++) {
      k |= ((bytes >>> (b * 8)) & 0xff) << shift;
      shift += 8;
      if (shift === 32) {
        h = mixBlock(h, k);
        k = 0;
        shift = 0;
      }
    }
  }
  if (shift > 0) {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
