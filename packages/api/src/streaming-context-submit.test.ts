import { ConfigError, PlanError, RunnerError, type JobRunner } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getDefaultRunner, setDefaultRunner, setRunnerOverride } from './runner-registry.js';
import { StreamingContext } from './streaming-context.js';
import { resetRunners, CapturingRunner, rejection, withRunner, wordCount } from './test-context.js';

beforeEach(resetRunners);
afterEach(resetRunners);

describe('submit', () => {
  it('hands the graph and the job name to the runner and returns its handle', async () => {
    const runner = new CapturingRunner();
    const ctx = withRunner(runner);
    wordCount(ctx);
    const job = await ctx.submit('word_count');
    expect(runner.submissions).toHaveLength(1);
    expect(runner.submissions[0].options).toEqual({ name: 'word_count' });
    expect(runner.submissions[0].graph).toEqual(ctx.graph());
    expect(job).toMatchObject({ id: 'capturing-1', name: 'word_count' });
  });

  it("the default job name is 'job'", async () => {
    const runner = new CapturingRunner();
    const ctx = withRunner(runner);
    wordCount(ctx);
    await ctx.submit();
    expect(runner.submissions[0].options.name).toBe('job');
  });

  it('setParallelism(0) is accepted when called and rejected at submit with PLAN_INVALID_PARALLELISM', async () => {
    const runner = new CapturingRunner();
    const ctx = withRunner(runner);
    const m = ctx.fromValues(1).map((x) => x);
    expect(() => m.setParallelism(0)).not.toThrow();
    m.sink(() => {});
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(PlanError);
    expect(e).toMatchObject({ code: 'PLAN_INVALID_PARALLELISM', operatorId: 'map-2' });
    expect(runner.submissions).toHaveLength(0);
  });

  it('an unknown option is accepted by option() and rejected at submit with a ConfigError naming the key', async () => {
    const runner = new CapturingRunner();
    const builder = StreamingContext.builder().runner(runner);
    expect(() => builder.option('paralelism.default', 2)).not.toThrow();
    const ctx = builder.build();
    wordCount(ctx);
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', key: 'paralelism.default' });
    expect((e as ConfigError).message).toContain('paralelism.default');
    expect(runner.submissions).toHaveLength(0);
  });

  it('a bad option value is rejected at submit with a ConfigError naming the key', async () => {
    const ctx = StreamingContext.builder().runner(new CapturingRunner()).option('parallelism.default', 0).build();
    wordCount(ctx);
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ code: 'CONFIG_INVALID_VALUE', key: 'parallelism.default' });
  });

  it('an unknown operator config key is rejected at submit', async () => {
    const ctx = withRunner();
    ctx
      .fromValues(1)
      .map((x) => x)
      .withConfig('no.such.key', true)
      .sink(() => {});
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ key: 'no.such.key' });
  });

  it('a.union(a) builds, and is rejected at submit with PLAN_SELF_UNION', async () => {
    const runner = new CapturingRunner();
    const ctx = withRunner(runner);
    const a = ctx.fromValues(1, 2);
    const u = a.union(a);
    u.sink(() => {});
    expect(ctx.graph().edges.filter((e) => e.target === u.id)).toHaveLength(2);
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(PlanError);
    expect(e).toMatchObject({ code: 'PLAN_SELF_UNION' });
    expect(runner.submissions).toHaveLength(0);
  });

  it('an empty job is rejected at submit', async () => {
    const e = await rejection(withRunner().submit());
    expect(e).toMatchObject({ name: 'PlanError', code: 'PLAN_EMPTY' });
  });

  it("without any runner, submit rejects with RunnerError NO_RUNNER pointing to 'mobius'", async () => {
    expect(getDefaultRunner()).toBeUndefined();
    const ctx = StreamingContext.builder().build();
    wordCount(ctx);
    const e = await rejection(ctx.submit());
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code).toBe('NO_RUNNER');
    expect((e as RunnerError).message).toContain('mobius');
  });

  it('a context without its own runner uses the default runner', async () => {
    const fallback = new CapturingRunner('default');
    setDefaultRunner(fallback);
    expect(getDefaultRunner()).toBe(fallback);
    const ctx = StreamingContext.builder().build();
    wordCount(ctx);
    const job = await ctx.submit('d');
    expect(job.id).toBe('default-1');
    expect(fallback.submissions).toHaveLength(1);
  });

  it('builder().runner() wins over the default runner', async () => {
    const fallback = new CapturingRunner('default');
    const own = new CapturingRunner('own');
    setDefaultRunner(fallback);
    const ctx = withRunner(own);
    wordCount(ctx);
    await ctx.submit();
    expect(own.submissions).toHaveLength(1);
    expect(fallback.submissions).toHaveLength(0);
  });

  it('setRunnerOverride wins over builder().runner() until it is cleared', async () => {
    const own = new CapturingRunner('own');
    const override = new CapturingRunner('override');
    const ctx = withRunner(own);
    wordCount(ctx);
    setRunnerOverride(override);
    const job = await ctx.submit('planning');
    expect(job.id).toBe('override-1');
    expect(override.submissions[0].graph).toEqual(ctx.graph());
    expect(own.submissions).toHaveLength(0);

    setRunnerOverride(undefined);
    await ctx.submit();
    expect(own.submissions).toHaveLength(1);
    expect(override.submissions).toHaveLength(1);
  });

  it('execute() submits and resolves to the job result', async () => {
    const runner = new CapturingRunner();
    const ctx = withRunner(runner);
    wordCount(ctx);
    const result = await ctx.execute('wc');
    expect(runner.submissions).toHaveLength(1);
    expect(runner.submissions[0].options.name).toBe('wc');
    expect(result).toBe(runner.results[0]);
    expect(result).toMatchObject({ name: 'wc', state: 'FINISHED' });
  });

  it('execute() rejects when the job fails', async () => {
    const failure = new Error('task died');
    const runner: JobRunner = {
      async submit(_graph, options) {
        return { id: 'x', name: options.name, state: 'FAILED', result: () => Promise.reject(failure), cancel: async () => {}, metrics: () => [], events: () => [], rescale: () => Promise.reject(failure) };
      },
    };
    const ctx = withRunner(runner);
    wordCount(ctx);
    expect(await rejection(ctx.execute())).toBe(failure);
  });
});
