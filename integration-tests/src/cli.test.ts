import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusPath, mobiusCli, readText, referenceCounts, repoRoot, run } from './helpers.js';

const fixture = (name: string): string => join(repoRoot, 'integration-tests/fixtures', name);

describe('the mobius command', () => {
  it('mobius run job.ts runs a TypeScript job in-process and passes its arguments', async () => {
    const r = await run(process.execPath, [mobiusCli, 'run', fixture('typed-job.ts'), '--flag', 'x']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { args: string[]; totals: Record<string, number> };
    expect(out.args).toEqual(['--flag', 'x']);
    const expected: Record<string, number> = { s0: 0, s1: 0, s2: 0 };
    for (let i = 0; i < 300; i++) expected[`s${i % 3}`] += i * 10;
    expect(out.totals).toEqual(expected);
  });

  it('node job.js runs a compiled job in-process', async () => {
    const r = await run(process.execPath, [fixture('compiled-job.js')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("require('mobius') works from CommonJS", async () => {
    const r = await run(process.execPath, [fixture('commonjs-job.cjs')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ sum: 30 });
  });

  it('mobius explain job.ts prints the plan as text and as Mermaid without running the job', async () => {
    const r = await run(process.execPath, [mobiusCli, 'explain', join(repoRoot, 'examples/word-count/word-count.ts')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Job "word_count"');
    expect(r.stdout).toContain('[source-1] readTextFile -> flatMap -> map  parallelism 1');
    expect(r.stdout).toContain('[reduce-4] reduce -> filter -> collect  parallelism 1, key groups 0-127');
    expect(r.stdout).toContain('--key--> [reduce-4]');
    expect(r.stdout).toContain('```mermaid\nflowchart LR');
    expect(r.stdout).not.toContain('records/s'); // planning mode: the job did not run
  });

  it('mobius explain --format mermaid prints only the diagram', async () => {
    const r = await run(process.execPath, [mobiusCli, 'explain', '--format', 'mermaid', fixture('typed-job.ts')]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('flowchart LR\n')).toBe(true);
    expect(r.stdout).toContain('subgraph');
  });

  it('mobius explain on a module that submits nothing says so', async () => {
    const r = await run(process.execPath, [mobiusCli, 'explain', join(repoRoot, 'integration-tests/src/helpers.ts')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not submit a job/);
  });

  it('an unknown command is an error with the usage', async () => {
    const r = await run(process.execPath, [mobiusCli, 'frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stderr).toMatch(/mobius run/);
  });

  it('the word-count example prints the top words and a records/s line, matching the reference', async () => {
    const r = await run(process.execPath, [mobiusCli, 'run', join(repoRoot, 'examples/word-count/word-count.ts'), '--parallelism', '2']);
    expect(r.code).toBe(0);
    const reference = [...referenceCounts(readText(corpusPath))].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const lines = r.stdout.trim().split('\n');
    for (let i = 0; i < 20; i++) {
      const [count, word] = lines[i + 1].trim().split(/\s+/);
      expect([word, Number(count)]).toEqual(reference[i]);
    }
    expect(lines[lines.length - 1]).toMatch(/^\d+ records in [\d.]+ s: [\d,]+ records\/s$/);
  });
});
