import { afterAll, describe, expect, it } from 'vitest';
import { runHeapFixture, type SampledKeysReport } from './heap-fixture.js';
import { tempDir } from './helpers.js';

const KEYS = 2_000_000;
const SAMPLE = 1_000; // the fixture sends every 1,000th key a second time
const CACHE = 50_000;
const MiB = 1024 * 1024;

describe("keyed job with 'state.backend' 'level' (child process, node --expose-gc)", () => {
  // The job's LevelDB working copy goes under os.tmpdir()/mobius-state: point the child's TMPDIR
  // at a folder of ours so that the ~40 MB of LevelDB files are removed with it.
  const tmp = tempDir('mobius-level-job-');
  afterAll(() => tmp.remove());

  it(`${KEYS.toLocaleString('en')} distinct keys, cache-entries ${CACHE.toLocaleString('en')}: exact results, bounded heap`, { timeout: 310_000 }, async () => {
    const r = await runHeapFixture<SampledKeysReport>('level-2m-keys.mjs', [KEYS, 'level', CACHE], { env: { TMPDIR: tmp.dir } });
    console.log(
      `level-state-job: ${r.keys} keys in ${r.seconds.toFixed(1)} s, heapUsed baseline ${(r.baselineHeap / MiB).toFixed(1)} MiB, ` +
        `peak growth ${(r.peakHeapGrowth / MiB).toFixed(1)} MiB over ${r.samples} samples, peak RSS ${(r.peakRss / MiB).toFixed(0)} MiB`,
    );

    expect(r.state).toBe('FINISHED');
    expect(r.backend).toBe('level');
    const second = KEYS / SAMPLE; // k0, k1000, …, k1999000
    expect(r.secondPass).toBe(second);
    // reduce(sum) emits one update per record: [k, 1] for every key, then [k, 2] for each sampled key.
    expect(r.records).toBe(KEYS + second);
    expect(r.ones).toBe(KEYS);
    expect(r.twos).toBe(second);
    expect(r.other).toBe(0);
    expect(r.valueSum).toBe(KEYS + 2 * second);
    expect(r.oneIndexSum).toBe((KEYS * (KEYS - 1)) / 2); // every key exactly once with 1
    expect(r.twoIndexSum).toBe((SAMPLE * (second * (second - 1))) / 2); // every sampled key exactly once with 2
    expect(r.twoNotSampled).toBe(0);
    expect(r.twoDuplicates).toBe(0);
    expect(r.twoBeforeOne).toBe(0);

    // The bound. One reduce task (parallelism 1) holds at most cache-entries = 50,000 entries
    // (cached + flushing), each a key string, a [key, sum] array, an LRU node and the serialized
    // bytes while flushing: a few hundred bytes, say 500 → 25 MB. Add the channels
    // (2 × credits 8 × batch 1,024 small records, ~2 MB), the sink's 2,000-byte bitset and the
    // runtime and allocator (32 MiB, as in backpressure.test.ts): 64 MiB.
    // What it means: the same job with 'state.backend' 'memory' keeps all 2,000,000 keys in the
    // heap. Measured once by hand (`node --expose-gc fixtures/level-2m-keys.mjs 2000000 memory`,
    // Node 20, 2 cores): peak heapUsed growth 234,375,256 bytes (223.5 MiB; sampled every 200 ms,
    // so the real peak is at least that), peak RSS 422 MiB, in 6.1 s. The level backend measured
    // ~13 MiB growth (peak RSS ~168 MiB) in ~10 s.
    const boundBytes = 64 * MiB;
    expect(r.samples).toBeGreaterThan(10);
    expect(r.peakHeapGrowth).toBeLessThan(boundBytes);
  });
});
