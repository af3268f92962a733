import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mobiusCli, repoRoot, run, tempDir } from './helpers.js';

const job = join(repoRoot, 'integration-tests/fixtures/threads-job.ts');
const dir = tempDir('mobius-threads-');
afterAll(() => dir.remove());

/** The word counts of the fixture's lines, computed here. */
function reference(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 4000; i++) for (const w of [`w${i % 97}`, `v${i % 13}`, `u${(i * 7) % 31}`]) counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

interface Output {
  readonly state: string;
  readonly totals: Record<string, number>;
  readonly reduceThreads: number[];
  readonly mainThreadId: number;
  readonly restarts: number;
}

let runs = 0;
async function runJob(mode: string, threads?: number): Promise<{ out: Output; stderr: string }> {
  const marker = join(dir.dir, `marker-${++runs}`);
  const r = await run(process.execPath, [mobiusCli, 'run', job, mode, marker, ...(threads === undefined ? [] : [String(threads)])], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`mobius run ${mode} exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  // One line only: what the module prints while the threads import it is not printed again.
  expect(lines).toHaveLength(1);
  return { out: JSON.parse(lines[0]) as Output, stderr: r.stderr };
}

describe('embedded mode on task threads (execution.threads)', () => {
  it('mobius run spreads a parallelism-2 job over two threads (auto) and returns exact counts through collect', async () => {
    const { out, stderr } = await runJob('count');
    expect(stderr).toBe('');
    expect(out.state).toBe('FINISHED');
    expect(out.totals).toEqual(reference());
    expect(out.reduceThreads).toHaveLength(2);
    expect(out.reduceThreads).not.toContain(out.mainThreadId);
  });

  it('execution.threads 0 keeps every task on the calling thread, with the same counts', async () => {
    const { out } = await runJob('count', 0);
    expect(out.totals).toEqual(reference());
    expect(out.reduceThreads).toEqual([out.mainThreadId]);
  });

  it('execution.threads 1 puts both slots on one task thread', async () => {
    const { out } = await runJob('count', 1);
    expect(out.totals).toEqual(reference());
    expect(out.reduceThreads).toHaveLength(1);
    expect(out.reduceThreads).not.toContain(out.mainThreadId);
  });

  it('a task failing on a thread is recovered and the counts stay exact', async () => {
    const { out } = await runJob('fail-once', 2);
    expect(out.state).toBe('FINISHED');
    expect(out.restarts).toBeGreaterThanOrEqual(1);
    expect(out.totals).toEqual(reference());
  });

  it('a thread that exits (process.exit in a function) fails its tasks, a new thread takes its place, and the counts stay exact', async () => {
    const { out } = await runJob('exit-thread', 2);
    expect(out.state).toBe('FINISHED');
    expect(out.restarts).toBeGreaterThanOrEqual(1);
    expect(out.totals).toEqual(reference());
  });

  it('threads that build another graph than the caller fall back to the calling thread, with a warning', async () => {
    const { out, stderr } = await runJob('mismatch', 2);
    expect(stderr).toMatch(/THREAD_GRAPH_MISMATCH|another graph/);
    expect(stderr).toMatch(/runs on this thread/);
    expect(out.totals).toEqual(reference());
    expect(out.reduceThreads).toEqual([out.mainThreadId]);
  });

  it('job.rescale on task threads: the reduce goes 2 → 3 → 1 while the job runs, every running count exactly once', async () => {
    const gates = join(dir.dir, 'rescale-gates');
    mkdirSync(gates);
    const r = await run(process.execPath, [mobiusCli, 'run', join(repoRoot, 'integration-tests/fixtures/rescale-threads-job.ts'), gates], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mobius run exited ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { state: string; counts: Record<string, number[]>; rescales: { from: number; to: number; failed?: string }[]; reduceThreads: number[]; mainThreadId: number };
    expect(out.state).toBe('FINISHED');
    expect(out.rescales.map((e) => [e.from, e.to, e.failed])).toEqual([
      [2, 3, undefined],
      [3, 1, undefined],
    ]);
    expect(out.reduceThreads).not.toContain(out.mainThreadId);
    // Reference: every word's running count takes each value 1..n exactly once.
    const expected: Record<string, number> = {};
    for (let i = 0; i < 4500; i++) for (const w of [`w${i % 97}`, `v${i % 13}`, `u${(i * 7) % 31}`]) expected[w] = (expected[w] ?? 0) + 1;
    expect(Object.keys(out.counts).sort()).toEqual(Object.keys(expected).sort());
    for (const [w, n] of Object.entries(expected)) expect([...out.counts[w]].sort((a, b) => a - b), w).toEqual(Array.from({ length: n }, (_, k) => k + 1));
  });
});
