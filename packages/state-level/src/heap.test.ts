import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '..', 'test', 'heap-child.mjs');
const dist = join(here, '..', 'dist', 'index.js');
const directory = mkdtempSync(join(tmpdir(), 'mobius-level-heap-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const KEYS = 2_000_000;
const CACHE = 50_000;
const BOUND_MB = 150;

describe('LevelStateBackend: heap stays bounded (child process, node --expose-gc)', () => {
  it(`${KEYS.toLocaleString('en')} distinct keys with cacheEntries ${CACHE.toLocaleString('en')}: heapUsed grows less than ${BOUND_MB} MB`, { timeout: 300_000 }, async () => {
    expect(existsSync(dist), `${dist} is missing: build the package first (turbo runs build before test)`).toBe(true);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--expose-gc', child, directory, String(KEYS), String(CACHE)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`heap child failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      keys: number; writeMs: number; baseHeap: number; maxGrowth: number; maxEntries: number; peak: number; size: number; wrong: number; blockingWaits: number; batches: number;
    };
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `[heap] ${r.keys} keys, cacheEntries ${CACHE}: wrote in ${r.writeMs} ms, heapUsed base ${mb(r.baseHeap)}, max growth ${mb(r.maxGrowth)} (bound ${BOUND_MB} MB), ` +
        `peak entries ${r.peak}, batches ${r.batches}, blocking waits ${r.blockingWaits}`,
    );
    expect(r.wrong).toBe(0);
    expect(r.size).toBe(KEYS);
    expect(r.peak).toBeLessThanOrEqual(CACHE);
    expect(r.maxEntries).toBeLessThanOrEqual(CACHE);
    expect(r.maxGrowth).toBeLessThan(BOUND_MB * 1024 * 1024);
  });
});
