import { lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleJob, writeBundle } from './job-bundle.js';

const fixture = fileURLToPath(new URL('../test-fixtures/typed-job.ts', import.meta.url));

// The round trip (a written bundle captured in planning mode) needs the `mobius` package: it is
// tested where that package is installed, in apps/cluster/src/job-bundle.test.ts.
describe('job bundles', () => {
  it('bundles a TypeScript job into one ESM file that keeps the engine packages external', async () => {
    const bundle = await bundleJob(fixture);
    expect(bundle).toMatch(/from "@mobius\/api"/);
    expect(bundle).not.toMatch(/class StreamingContext/);
    expect(bundle).not.toMatch(/interface Probe/);
  });

  it('writes the bundle beside a node_modules link to this install of mobius', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mobius-loader-'));
    try {
      const path = writeBundle(dir, 'export const x = 1;\n');
      expect(readFileSync(path, 'utf8')).toBe('export const x = 1;\n');
      const link = join(dir, 'node_modules', 'mobius');
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      const pkg = JSON.parse(readFileSync(join(realpathSync(link), 'package.json'), 'utf8')) as { name: string };
      expect(pkg.name).toBe('mobius');
      // A second bundle in the same folder reuses the link.
      expect(() => writeBundle(dir, 'export const y = 2;\n')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
