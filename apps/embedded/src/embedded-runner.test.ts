import type { SourceContext, StateBackend, TaskStateBackend, TaskStateScope } from '@mobius/interface';
import { MemoryStateBackend } from '@mobius/runtime';
import { describe, expect, it } from 'vitest';
import { deferred, RecordingLogger } from '../test-fixtures/helpers.js';
import { EmbeddedRunner, StreamingContext, type DataStream, type JobRunner } from './index.js';

/** The memory backend, counting the task states it creates. */
class CountingStateBackend implements StateBackend {
  readonly kind = 'counting-memory';
  readonly scopes: TaskStateScope[] = [];
  private readonly inner = new MemoryStateBackend();

  create(scope: TaskStateScope): TaskStateBackend {
    this.scopes.push(scope);
    return this.inner.create(scope);
  }
}

function contextWith(runner: JobRunner): StreamingContext {
  return StreamingContext.builder().runner(runner).build();
}

/** Word count over the given lines: [word, count] running totals, keyed with the given parallelism. */
function wordCount(ctx: StreamingContext, lines: string[], parallelism = 2): DataStream<[string, number]> {
  return ctx
    .fromCollection(lines)
    .flatMap((line: string) => line.split(' '))
    .map((w: string): [string, number] => [w, 1])
    .keyBy((pair: [string, number]) => pair[0])
    .reduce((a: [string, number], b: [string, number]): [string, number] => [a[0], a[1] + b[1]])
    .setParallelism(parallelism);
}

/** Each word's highest running total (its count). */
function highest(pairs: Iterable<[string, number]>): Record<string, number> {
  const out = new Map<string, number>();
  for (const [w, n] of pairs) out.set(w, Math.max(out.get(w) ?? 0, n));
  return Object.fromEntries(out);
}

describe('EmbeddedRunner', () => {
  it('is a JobRunner whose submit() returns a running handle of the named job', async () => {
    const logger = new RecordingLogger();
    const runner: JobRunner = new EmbeddedRunner({ logger });
    const ctx = contextWith(runner);
    ctx.fromValues(1, 2, 3).sink(() => {});
    const job = await ctx.submit('handle');
    expect(job.name).toBe('handle');
    expect(['RUNNING', 'FINISHED']).toContain(job.state);
    await expect(job.result()).resolves.toMatchObject({ name: 'handle', state: 'FINISHED', jobId: job.id });
    expect(logger.entries.some((e) => e.msg === 'job started' && e.obj.jobId === job.id)).toBe(true);
  });

  it('runs two jobs at once in one process, with independent results', async () => {
    const logger = new RecordingLogger();
    const runner = new EmbeddedRunner({ logger });
    const gate = deferred();
    const gated = <T>(values: T[]) => ({
      async fetch(c: SourceContext<T>) {
        await gate.promise;
        for (const v of values) c.collect(v);
        c.end();
      },
    });

    const ctxA = contextWith(runner);
    const a: number[] = [];
    ctxA
      .source(gated([1, 2, 3, 4, 5]))
      .map((n: number) => n * 100)
      .sink((n: number) => {
        a.push(n);
      })
      .disableChain();

    const ctxB = contextWith(runner);
    const b = new Map<string, number>();
    ctxB
      .source(gated(['to be or', 'not to be']))
      .flatMap((line: string) => line.split(' '))
      .map((w: string): [string, number] => [w, 1])
      .keyBy((pair: [string, number]) => pair[0])
      .reduce((x: [string, number], y: [string, number]): [string, number] => [x[0], x[1] + y[1]])
      .setParallelism(3)
      .sink((pair: [string, number]) => {
        b.set(pair[0], Math.max(b.get(pair[0]) ?? 0, pair[1]));
      });

    const jobA = await ctxA.submit('job-a');
    const jobB = await ctxB.submit('job-b');
    // Both wait on the same gate: both are running at the same time.
    expect(jobA.state).toBe('RUNNING');
    expect(jobB.state).toBe('RUNNING');
    expect(jobA.id).not.toBe(jobB.id);

    gate.resolve();
    const [ra, rb] = await Promise.all([jobA.result(), jobB.result()]);
    expect(ra).toMatchObject({ name: 'job-a', state: 'FINISHED', jobId: jobA.id });
    expect(rb).toMatchObject({ name: 'job-b', state: 'FINISHED', jobId: jobB.id });
    expect(a).toEqual([100, 200, 300, 400, 500]);
    expect(Object.fromEntries(b)).toEqual({ to: 2, be: 2, or: 1, not: 1 });
    expect(ra.tasks.find((t) => t.vertexName === 'sink')!.recordsIn).toBe(5);
    // Job B: 6 words cross the key partition into the 3 reduce tasks.
    expect(rb.tasks.filter((t) => t.vertexName === 'reduce -> sink')).toHaveLength(3);
    expect(rb.tasks.filter((t) => t.vertexName === 'reduce -> sink').reduce((s, t) => s + t.recordsIn, 0)).toBe(6);
    // Each job's task log lines carry their own job id.
    const jobIdsOfTaskLogs = new Set(logger.entries.filter((e) => e.obj.taskId !== undefined).map((e) => e.obj.jobId));
    expect(jobIdsOfTaskLogs).toEqual(new Set([jobA.id, jobB.id]));
  });

  it('runs the same graph twice as two separate jobs', async () => {
    const runner = new EmbeddedRunner({ logger: new RecordingLogger() });
    // One graph submitted twice: a closure sink, since a collect sink belongs to the first job only.
    const out: [string, number][] = [];
    const ctx = contextWith(runner);
    wordCount(ctx, ['a b', 'b']).sink((pair: [string, number]) => void out.push(pair));
    const first = await ctx.execute('again');
    expect(highest(out)).toEqual({ a: 1, b: 2 });
    out.length = 0;
    const second = await ctx.execute('again');
    expect(highest(out)).toEqual({ a: 1, b: 2 });
    expect(second.jobId).not.toBe(first.jobId);
  });

  it('uses the state backend given in its options for keyed state', async () => {
    const backend = new CountingStateBackend();
    const runner = new EmbeddedRunner({ logger: new RecordingLogger(), stateBackend: backend });
    const ctx = contextWith(runner);
    const out = wordCount(ctx, ['x y z', 'x y', 'x'], 2).collectAsync();
    const job = await ctx.submit('stateful');
    const counts: [string, number][] = [];
    for await (const pair of out) counts.push(pair);
    const result = await job.result();
    expect(result.state).toBe('FINISHED');
    expect(highest(counts)).toEqual({ x: 3, y: 2, z: 1 });
    // One task state per reduce task, for this job.
    expect(backend.scopes).toHaveLength(2);
    expect(backend.scopes.map((s) => s.taskIndex).sort()).toEqual([0, 1]);
    expect(backend.scopes.every((s) => s.jobId === job.id)).toBe(true);

    // The same backend serves the runner's next job.
    const ctx2 = contextWith(runner);
    const again = await wordCount(ctx2, ['q'], 3).executeAndCollect('stateful-2');
    expect(highest(again)).toEqual({ q: 1 });
    expect(backend.scopes).toHaveLength(5);
  });

  it('creates no state when the job has no keyed operator', async () => {
    const backend = new CountingStateBackend();
    const ctx = contextWith(new EmbeddedRunner({ logger: new RecordingLogger(), stateBackend: backend }));
    ctx.fromValues(1, 2).map((n: number) => n + 1).sink(() => {});
    await ctx.execute('stateless');
    expect(backend.scopes).toHaveLength(0);
  });

  it('rejects submit() of a graph that cannot be planned, before starting anything', async () => {
    const logger = new RecordingLogger();
    const runner = new EmbeddedRunner({ logger });
    const ctx = contextWith(runner);
    ctx.fromValues(1).setParallelism(0).sink(() => {});
    await expect(runner.submit(ctx.graph(), { name: 'bad' })).rejects.toMatchObject({ code: 'PLAN_INVALID_PARALLELISM' });
    expect(logger.entries.filter((e) => e.msg === 'job started')).toEqual([]);
  });
});
