// Shared by the benchmarks that need large keyed state (state-bench.mjs, rescale-bench.mjs).

/** 1 MiB of pseudo-random base64 characters (xorshift32, a fixed seed: the same on every run). */
const POOL = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const pool = Buffer.alloc(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < pool.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pool[i] = alphabet.charCodeAt(x & 63);
  }
  return pool;
})();

/**
 * A function giving a distinct, flat ASCII string of `bytes` characters per integer key: the
 * key's digits and ':', then a window of the pool at an offset that depends on the key. The
 * values do not compress (LevelDB compresses its blocks with Snappy: a repeated pattern would
 * shrink 1 GB to a few tens of MB on disk and make the figures meaningless).
 */
export function payloadMaker(bytes) {
  const buf = Buffer.alloc(bytes);
  return (key) => {
    const n = buf.write(`${key}:`, 0, 'latin1');
    const off = (key * 7919) % (POOL.length - bytes);
    POOL.copy(buf, n, off, off + bytes - n);
    return buf.toString('latin1');
  };
}
