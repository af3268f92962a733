import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from './helpers.js';

describe('backpressure', () => {
  it('a fast source into a slow sink holds memory flat and delivers every record', async () => {
    const total = 5_000_000;
    const result = await run(process.execPath, ['--expose-gc', join(repoRoot, 'integration-tests/fixtures/backpressure-job.mjs'), String(total)], {
      timeoutMs: 180_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { received: number; checksum: number; peakHeapGrowth: number; samples: number; batch: number; credits: number };
    expect(report.received).toBe(total);
    expect(report.checksum).toBe((total * (total - 1)) / 2);
    expect(report.samples).toBeGreaterThan(10);
    // The bound: the source→map and map→sink channels hold at most credits × batch records
    // each (2 × 8 × 1024 records of ~100 bytes, about 1.7 MB of records, ~5 MB with object
    // overhead), plus one input batch's output per task. 32 MB leaves room for the runtime and
    // the allocator, and is far below the ~500 MB that 5M unbounded records would take.
    const boundBytes = 32 * 1024 * 1024;
    console.log(`backpressure: peak live-heap growth ${(report.peakHeapGrowth / 1048576).toFixed(1)} MiB (bound ${boundBytes / 1048576} MiB)`);
    expect(report.peakHeapGrowth).toBeLessThan(boundBytes);
  });
});
