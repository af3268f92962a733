import { describe, expect, it } from 'vitest';
import { runHeapFixture } from './heap-fixture.js';

interface Report {
  records: number;
  keys: number;
  state: string;
  results: [number, number, number, number][];
}

const RECORDS = 10_000_000;
const KEYS = 10;
const MiB = 1024 * 1024;

describe('a window of 10 M records under aggregate (child process, node --expose-gc)', () => {
  it('gives the exact count and sum per key and keeps one accumulator per key and window, never the records', { timeout: 310_000 }, async () => {
    const r = await runHeapFixture<Report>('window-10m-records.mjs', [RECORDS, KEYS]);
    console.log(`window-10m-records: ${r.records} records in ${r.seconds.toFixed(1)} s, peak heap growth ${(r.peakHeapGrowth / MiB).toFixed(1)} MiB over ${r.samples} samples`);
    expect(r.state).toBe('FINISHED');

    // The reference: record i is [i % KEYS, i % 7], all in the window [0, 3,600,000).
    const expected = new Map<number, [number, number]>();
    for (let i = 0; i < RECORDS; i++) {
      const acc = expected.get(i % KEYS) ?? [0, 0];
      acc[0]++;
      acc[1] += i % 7;
      expected.set(i % KEYS, acc);
    }
    expect(r.results.map(([k, start, count, sum]) => [k, start, count, sum]).sort((a, b) => a[0] - b[0])).toEqual(
      [...expected].sort((a, b) => a[0] - b[0]).map(([k, [count, sum]]) => [k, 0, count, sum]),
    );

    // Ten million records of ~50 bytes would be ~500 MB held; one accumulator per key is a few
    // hundred bytes. The bound covers the channels and the runtime (measured: under 1 MiB).
    expect(r.samples).toBeGreaterThan(5);
    expect(r.peakHeapGrowth).toBeLessThan(16 * MiB);
  });
});
