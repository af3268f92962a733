import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusPath, mobiusCli, readText, referenceCounts, repoRoot, run } from './helpers.js';

describe('executeAndCollect through the mobius command', () => {
  it('mobius run of the collect word-count example prints the top words of a plain count, at parallelism 2', async () => {
    const r = await run(process.execPath, [mobiusCli, 'run', join(repoRoot, 'examples/word-count/collect-word-count.ts'), '--parallelism', '2'], { timeoutMs: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const reference = [...referenceCounts(readText(corpusPath))].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toContain(`${reference.length} distinct words`);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual(reference.slice(0, 20).map(([w, n]) => [String(n), w]));
  }, 240_000);
});
