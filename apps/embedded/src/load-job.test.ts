import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JobHandle, JobResult, JobRunner, LogicalGraph, SubmitOptions } from '@mobius/interface';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingLogger, rejection } from '../test-fixtures/helpers.js';
import { captureJob, importJob } from '@mobius/job-loader';
import { EmbeddedRunner, getDefaultRunner, MobiusError, setDefaultRunner, StreamingContext } from './index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));

const globals = globalThis as Record<string, unknown>;

// The fixtures import 'mobius', which resolves (workspace symlink) to this package's dist.
beforeAll(() => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (npx turbo run build --filter=mobius)`);
});

interface CaptureProbe {
  loaded: boolean;
  sinkCalls: number;
  afterSubmit: boolean;
}

/** Delegates to an embedded runner and counts the submissions it receives. */
class CountingRunner implements JobRunner {
  readonly names: string[] = [];
  private readonly inner = new EmbeddedRunner({ logger: new RecordingLogger() });

  submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
    this.names.push(options.name);
    return this.inner.submit(graph, options);
  }
}

/**
 * Submits a small job with an explicit runner and checks, synchronously, that the runner was
 * reached (a runner override left in place would win over it and never return), then runs it.
 */
async function submitRunsNormally(): Promise<{ result: JobResult; sunk: number[] }> {
  const runner = new CountingRunner();
  const ctx = StreamingContext.builder().runner(runner).build();
  const records = ctx.fromValues(1, 2, 3).collectAsync();
  const submitted = ctx.execute('after-capture');
  // submit() hands the graph to the runner before its first await.
  expect(runner.names).toEqual(['after-capture']);
  const result = await submitted; // three records fit in the collect buffer
  const sunk: number[] = [];
  for await (const n of records) sunk.push(n);
  return { result, sunk };
}

describe('captureJob', () => {
  it('returns the graph and the name the module submitted, without running the job or the code after submit', async () => {
    const job = await captureJob(fixture('capture-job.ts'));
    const probe = globals.__mobiusCaptureProbe as CaptureProbe | undefined;
    expect(probe?.loaded).toBe(true); // the module did run up to its submit
    expect(job.name).toBe('capture-me');
    expect(job.graph.nodes.map((n) => n.kind)).toEqual(['source', 'map', 'sink']);
    expect(job.graph.nodes.map((n) => n.name)).toEqual(['fromValues', 'times-ten', 'sink']);
    expect(job.graph.nodes[0].data).toEqual([1, 2, 3]);
    expect(job.graph.edges.map((e) => [e.source, e.target])).toEqual([
      [job.graph.nodes[0].id, job.graph.nodes[1].id],
      [job.graph.nodes[1].id, job.graph.nodes[2].id],
    ]);
    expect(probe?.sinkCalls).toBe(0);
    expect(probe?.afterSubmit).toBe(false);

    // The captured graph is a real, runnable graph: running it here calls the module's sink.
    const result = await new EmbeddedRunner({ logger: new RecordingLogger() }).submit(job.graph, { name: job.name });
    await expect(result.result()).resolves.toMatchObject({ name: 'capture-me', state: 'FINISHED' });
    expect(probe?.sinkCalls).toBe(3);
    expect(probe?.afterSubmit).toBe(false);
  });

  it('clears the runner override afterwards, so a normal submit runs again', async () => {
    const { result, sunk } = await submitRunsNormally();
    expect(result.state).toBe('FINISHED');
    expect(sunk).toEqual([1, 2, 3]);
  });

  it('rejects with NO_JOB when the module submits nothing, and clears the override', async () => {
    const error = await rejection(captureJob(fixture('no-job.ts')));
    expect(globals.__mobiusNoJobLoaded).toBe(true);
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as MobiusError).code).toBe('NO_JOB');
    expect((error as MobiusError).message).toContain('no-job.ts did not submit a job');
    const { sunk } = await submitRunsNormally();
    expect(sunk).toEqual([1, 2, 3]);
  });

  it('rejects with the error of a module that throws while loading, and clears the override', async () => {
    const error = await rejection(captureJob(fixture('throws-job.ts')));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('fixture exploded while loading');
    const { sunk } = await submitRunsNormally();
    expect(sunk).toEqual([1, 2, 3]);
  });

  it('rejects when the module does not exist', async () => {
    await expect(captureJob(fixture('does-not-exist.ts'))).rejects.toThrow();
    const { sunk } = await submitRunsNormally();
    expect(sunk).toEqual([1, 2, 3]);
  });
});

describe('importJob', () => {
  // The fixtures use the default runner: make it one that logs here rather than on stderr.
  const logger = new RecordingLogger();
  const previous = getDefaultRunner();
  beforeAll(() => {
    expect(previous).toBeInstanceOf(EmbeddedRunner);
    setDefaultRunner(new EmbeddedRunner({ logger }));
  });
  afterAll(() => setDefaultRunner(previous));

  it('runs a TypeScript job module (top-level await included) with the default runner', async () => {
    expect(globals.__mobiusRunProbe).toBeUndefined();
    await importJob(fixture('run-job.ts'));
    const probe = globals.__mobiusRunProbe as { sunk: string[]; result?: JobResult };
    expect(probe.sunk).toEqual(['X', 'Y', 'Z']);
    expect(probe.result).toMatchObject({ name: 'run-me', state: 'FINISHED' });
    expect(logger.entries).toContainEqual(expect.objectContaining({ msg: 'job ended', obj: expect.objectContaining({ job: 'run-me', state: 'FINISHED' }) }));
  });

  it("rejects with the job's failure when the module awaits a failing job", async () => {
    const error = await rejection(importJob(fixture('failing-job.ts')));
    expect(error).toMatchObject({ code: 'JOB_FAILED', jobName: 'doomed-job', operatorName: 'explode', taskIndex: 0 });
    expect((error as Error).message).toMatch(/^job "doomed-job" failed: .*fixture boom/);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', msg: 'job failed', obj: expect.objectContaining({ job: 'doomed-job' }) }));
  });
});
