import { afterAll, describe, expect, it } from 'vitest';
import { runHeapFixture, type SampledKeysReport } from './heap-fixture.js';
import { tempDir } from './helpers.js';

interface Report extends SampledKeysReport {
  windows: number;
  wrongTimestamp: number;
}

const KEYS = 300_000;
const SAMPLE = 1_000; // the fixture sends every 1,000th key a second time
const CACHE = 50_000;
const HEAP_MB = 96; // --max-old-space-size of the child
const MiB = 1024 * 1024;

describe("open windows with 'state.backend' 'level' (child process, node --expose-gc)", () => {
  const tmp = tempDir('mobius-level-windows-');
  afterAll(() => tmp.remove());

  it(`${KEYS.toLocaleString('en')} windows open at once in a ${HEAP_MB} MiB heap: exact results, contents and timers on disk`, { timeout: 310_000 }, async () => {
    const r = await runHeapFixture<Report>('level-open-windows.mjs', [KEYS, 'level', CACHE], { nodeArgs: [`--max-old-space-size=${HEAP_MB}`], env: { TMPDIR: tmp.dir } });
    console.log(
      `level-open-windows: ${r.keys} open windows in ${r.seconds.toFixed(1)} s, peak heap growth ${(r.peakHeapGrowth / MiB).toFixed(1)} MiB ` +
        `over ${r.samples} samples, peak RSS ${(r.peakRss / MiB).toFixed(0)} MiB`,
    );

    expect(r.state).toBe('FINISHED');
    expect(r.backend).toBe('level');
    const second = KEYS / SAMPLE;
    expect(r.secondPass).toBe(second);
    // One window per key, all firing at the end of input: count 1, or 2 for every sampled key.
    expect(r.windows).toBe(KEYS);
    expect(r.ones).toBe(KEYS - second);
    expect(r.twos).toBe(second);
    expect(r.other).toBe(0);
    expect(r.valueSum).toBe(KEYS + second);
    const sampledSum = (SAMPLE * (second * (second - 1))) / 2;
    expect(r.twoIndexSum).toBe(sampledSum);
    expect(r.oneIndexSum).toBe((KEYS * (KEYS - 1)) / 2 - sampledSum);
    expect(r.twoNotSampled).toBe(0);
    expect(r.twoDuplicates).toBe(0);
    expect(r.wrongTimestamp).toBe(0);

    // The bound: the window contents, the trigger's timer lists and the timers themselves
    // (StateTimerService) are in LevelDB behind a cache of 50,000 entries. What it means: the
    // same job with 'state.backend' 'memory' holds every window and timer in the heap; measured
    // by hand (`node --expose-gc fixtures/level-open-windows.mjs 200000 memory`, Node 20):
    // peak heapUsed growth 167 MB for 200,000 windows (~830 bytes a window, so ~250 MB here),
    // and with --max-old-space-size=96 it dies of "heap out of memory"; the level backend
    // measured ~24 MiB growth for 300,000, 500,000 and 1,000,000 windows alike.
    expect(r.samples).toBeGreaterThan(10);
    expect(r.peakHeapGrowth).toBeLessThan(64 * MiB);
  });
});
