import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleJob, captureBundle, writeBundle } from '@mobius/job-loader';

const fixture = fileURLToPath(new URL('../test-fixtures/small-job.ts', import.meta.url));

// The bundle functions live in @mobius/job-loader; their round trip through the real `mobius`
// package (what a coordinator and its workers do) is tested here, where mobius is installed.
describe('job bundles', () => {
  it('bundles a TypeScript job into one ESM file that keeps mobius external', async () => {
    const bundle = await bundleJob(fixture);
    expect(bundle).toMatch(/from "mobius"/);
    expect(bundle).not.toMatch(/class StreamingContext/);
  });

  it('a written bundle is captured in planning mode, twice in a row, with the same graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mobius-bundle-'));
    try {
      const path = writeBundle(dir, await bundleJob(fixture));
      const first = await captureBundle(path);
      const second = await captureBundle(path);
      expect(first.name).toBe('small');
      expect(first.graph.nodes.map((n) => n.name)).toEqual(['fromValues', 'upper', 'sink']);
      expect(second.graph.nodes.map((n) => n.id)).toEqual(first.graph.nodes.map((n) => n.id));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
