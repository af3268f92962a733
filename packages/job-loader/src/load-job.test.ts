import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MobiusError } from '@mobius/interface';
import { captureJob, importJob } from './load-job.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));
const g = globalThis as { __jobLoaderProbe?: { loads: number; afterSubmit: number }; __jobLoaderPlain?: number };

describe('importJob', () => {
  it('loads a TypeScript module through tsx, with no compile step', async () => {
    const mod = (await importJob(fixture('plain-module.ts'))) as { typed: string };
    expect(mod.typed).toBe('yes');
    expect(g.__jobLoaderPlain).toBe(1);
  });
});

describe('captureJob', () => {
  it('returns the graph the module submitted and never runs the code after submit()', async () => {
    const job = await captureJob(fixture('typed-job.ts'));
    expect(job.name).toBe('typed');
    expect(job.graph.nodes.map((n) => n.kind)).toEqual(['source', 'map', 'sink']);
    expect(job.graph.nodes[0].data).toEqual([1, 2, 3]);
    expect(g.__jobLoaderProbe).toEqual({ loads: 1, afterSubmit: 0 });
  });

  it('imports the module afresh on every capture, so each capture sees the same graph', async () => {
    const first = await captureJob(fixture('typed-job.ts'));
    const second = await captureJob(fixture('typed-job.ts'));
    expect(g.__jobLoaderProbe!.loads).toBe(3);
    expect(second.graph.nodes.map((n) => n.id)).toEqual(first.graph.nodes.map((n) => n.id));
  });

  it('is a NO_JOB error when the module submits nothing', async () => {
    const error = await captureJob(fixture('no-job.ts')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as MobiusError).code).toBe('NO_JOB');
    expect((error as MobiusError).message).toContain('no-job.ts');
  });

  it('rejects when the module does not exist', async () => {
    await expect(captureJob(fixture('does-not-exist.ts'))).rejects.toThrow();
  });
});
