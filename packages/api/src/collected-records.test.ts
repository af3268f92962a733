import type { JobHandle, JobResult, JobRunner, LogicalGraph, SubmitOptions } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectingJobHandle } from './collected-records.js';
import { CapturingRunner, rejection, resetRunners, withRunner } from './test-context.js';

/**
 * A runner that runs nothing but answers every collect sink with the given records, and
 * records whether the job was cancelled or awaited.
 */
class ReplayingRunner implements JobRunner {
  readonly graphs: LogicalGraph[] = [];
  readonly asked: string[] = [];
  cancelled = false;
  awaited = false;

  constructor(private readonly records: readonly unknown[]) {}

  async submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
    this.graphs.push(graph);
    const result: JobResult = { jobId: 'j', name: options.name, state: 'FINISHED', startTime: 1, endTime: 2, durationMs: 1, tasks: [] };
    const handle: CollectingJobHandle = {
      id: 'j',
      name: options.name,
      state: 'RUNNING',
      result: async () => {
        this.awaited = true;
        return result;
      },
      cancel: async () => {
        this.cancelled = true;
      },
      metrics: () => [],
      events: () => [],
      rescale: () => Promise.reject(new Error('not rescaled in this test')),
      collectResults: (collectId) => {
        this.asked.push(collectId);
        return (async function* (records) {
          yield* records;
        })(this.records);
      },
    };
    return handle;
  }
}

beforeEach(resetRunners);
afterEach(resetRunners);

describe('DataStream.executeAndCollect', () => {
  it('adds a collect sink, runs the job under its name and returns the records of that sink', async () => {
    const runner = new ReplayingRunner(['a', 'b', 'c']);
    const ctx = withRunner(runner);
    const got = await ctx.fromValues(1, 2).map((x) => String(x)).executeAndCollect('named');
    expect(got).toEqual(['a', 'b', 'c']);
    const graph = runner.graphs[0];
    const sink = graph.nodes.find((n) => n.kind === 'collect');
    expect(sink).toBeDefined();
    expect(graph.edges.some((e) => e.target === sink!.id)).toBe(true);
    expect(runner.asked).toEqual([sink!.id]);
    expect(runner.awaited).toBe(true);
    expect(runner.cancelled).toBe(false);
  });

  it('with a limit returns the first records and cancels the job', async () => {
    const runner = new ReplayingRunner([1, 2, 3, 4, 5]);
    const got = await withRunner(runner).fromValues(0).executeAndCollect({ jobName: 'limited', limit: 2 });
    expect(got).toEqual([1, 2]);
    expect(runner.cancelled).toBe(true);
  });

  it('rejects a limit that is not a positive integer, naming it', async () => {
    const ctx = withRunner(new ReplayingRunner([]));
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      const error = await rejection(ctx.fromValues(1).executeAndCollect({ limit }));
      expect(error).toMatchObject({ code: 'COLLECT_INVALID_OPTIONS', message: expect.stringContaining('limit must be an integer of at least 1') });
    }
  });

  it('fails clearly on a runner whose jobs cannot hand records back', async () => {
    const error = await rejection(withRunner(new CapturingRunner()).fromValues(1).executeAndCollect());
    expect(error).toMatchObject({ code: 'COLLECT_UNSUPPORTED', message: expect.stringContaining('cannot hand a collect sink') });
  });
});

describe('DataStream.collectAsync', () => {
  it('is bound to the job the context submits next, and can be read once', async () => {
    const runner = new ReplayingRunner(['x', 'y']);
    const ctx = withRunner(runner);
    const records = ctx.fromValues('x', 'y').collectAsync();
    const reading = (async () => {
      const out: string[] = [];
      for await (const r of records) out.push(r);
      return out;
    })();
    await ctx.execute('async');
    expect(await reading).toEqual(['x', 'y']);
    expect(() => records[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'COLLECT_ALREADY_READ' }));
  });
});
