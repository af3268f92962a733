import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, JobFailedError, PlanError, StreamingContext } from 'mobius';
import { repoRoot, run } from './helpers.js';

describe('validation errors through the public API', () => {
  it('a parallelism below 1 names the operator and the value', async () => {
    const ctx = StreamingContext.builder().build();
    ctx.fromValues(1, 2).map((x: number) => x).name('doubler').setParallelism(0).sink(() => {});
    await expect(ctx.execute()).rejects.toThrow(PlanError);
    await expect(ctx.execute()).rejects.toThrow(/operator "doubler" \(map-2\): parallelism must be an integer of at least 1, got 0/);
  });

  it('a keyed operation on a non-keyed stream says to call keyBy()', () => {
    const ctx = StreamingContext.builder().build();
    const stream = ctx.fromValues(1, 2) as unknown as { reduce(fn: unknown): unknown };
    expect(() => stream.reduce((a: number, b: number) => a + b)).toThrow(/reduce\(\) is a keyed operation .*call keyBy\(\) before reduce\(\)/);
  });

  it('an unknown config key is named, with a suggestion', async () => {
    const ctx = StreamingContext.builder().option('runtime.batch.sise', 10).build();
    ctx.fromValues(1).sink(() => {});
    await expect(ctx.execute()).rejects.toThrow(ConfigError);
    await expect(ctx.execute()).rejects.toThrow(/unknown config key 'runtime\.batch\.sise' in job options \(did you mean 'runtime\.batch\.size'\?\)/);
  });

  it('an unknown operator config key names the key and the operator', async () => {
    const ctx = StreamingContext.builder().build();
    ctx.fromValues(1).map((x: number) => x).withConfig('no.such.key', 1).sink(() => {});
    await expect(ctx.execute()).rejects.toThrow(/unknown config key 'no\.such\.key' in operator "map" \(map-2\)/);
  });

  it('a union of a stream with itself is refused', async () => {
    const ctx = StreamingContext.builder().build();
    const s = ctx.fromValues(1, 2);
    s.union(s).sink(() => {});
    await expect(ctx.execute()).rejects.toThrow(/union of a stream with itself/);
  });

  it('forward() between different parallelisms is refused', async () => {
    const ctx = StreamingContext.builder().build();
    ctx.fromValues(1, 2).setParallelism(2).forward().map((x: number) => x).setParallelism(3).sink(() => {});
    await expect(ctx.execute()).rejects.toThrow(/forward\(\) from operator "fromValues" .* needs equal parallelism/);
  });
});

describe('failures', () => {
  it('a throwing map fails the job with the operator, the task index and the original error', async () => {
    const ctx = StreamingContext.builder().build();
    ctx
      .fromCollection(Array.from({ length: 10_000 }, (_, i) => i))
      .map((x: number) => {
        if (x === 4321) throw new TypeError('bad record 4321');
        return x;
      })
      .name('parse')
      .setParallelism(1)
      .sink(() => {});
    const job = await ctx.submit('failing');
    const error = await job.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobFailedError);
    const failure = error as JobFailedError;
    expect(failure.operatorName).toBe('parse');
    expect(failure.taskIndex).toBe(0);
    expect(failure.message).toMatch(/operator "parse" \(map-2\) task #0 failed: TypeError: bad record 4321/);
    expect((failure.cause as Error & { cause: Error }).cause.message).toBe('bad record 4321');
    expect(job.state).toBe('FAILED');
  });

  it('a failing job lets the process exit on its own, with no handle left open', async () => {
    const result = await run(process.execPath, [join(repoRoot, 'integration-tests/fixtures/failing-job.mjs')], { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stderr.trim().split('\n').pop()!) as { code: string; message: string; operatorName: string; taskIndex: number; handles: string[] };
    expect(report.code).toBe('JOB_FAILED');
    expect(report.operatorName).toBe('exploding-map');
    expect(report.taskIndex).toBeGreaterThanOrEqual(0);
    expect(report.taskIndex).toBeLessThan(3);
    expect(report.message).toMatch(/operator "exploding-map" \(map-2\) task #\d failed: Error: boom at 77777/);
    expect(report.handles).toEqual([]);
  });

  it('a cancelled unbounded job stops every task and the process exits', async () => {
    const result = await run(process.execPath, [join(repoRoot, 'integration-tests/fixtures/cancel-job.mjs')], { timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { state: string; resultState: string; seen: boolean; handles: string[] };
    expect(report).toEqual({ state: 'CANCELED', resultState: 'CANCELED', seen: true, handles: [] });
  });
});
