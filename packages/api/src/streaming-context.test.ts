import { isAbsolute, resolve } from 'node:path';
import {
  ConfigError,
  PlanError,
  RunnerError,
  type JobHandle,
  type JobResult,
  type JobRunner,
  type LogicalGraph,
  type SourceContext,
  type SubmitOptions,
} from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getDefaultRunner, setDefaultRunner, setRunnerOverride } from './runner-registry.js';
import { StreamingContext, StreamingContextBuilder } from './streaming-context.js';

/** A runner that runs nothing: it keeps every submitted graph and returns a finished handle. */
class CapturingRunner implements JobRunner {
  readonly submissions: { graph: LogicalGraph; options: SubmitOptions }[] = [];
  readonly results: JobResult[] = [];

  constructor(readonly label = 'capturing') {}

  async submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
    this.submissions.push({ graph, options });
    const id = `${this.label}-${this.submissions.length}`;
    const result: JobResult = { jobId: id, name: options.name, state: 'FINISHED', startTime: 1, endTime: 3, durationMs: 2, tasks: [] };
    this.results.push(result);
    return {
      id,
      name: options.name,
      state: 'FINISHED',
      result: async () => result,
      cancel: async () => {},
      metrics: () => [],
      events: () => [],
    };
  }
}

/** Awaits a promise that must reject and returns the reason. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

function withRunner(runner: JobRunner = new CapturingRunner()): StreamingContext {
  return StreamingContext.builder().runner(runner).build();
}

/** A small word-count job; `p` is the parallelism of the reduce. */
function wordCount(ctx: StreamingContext, p = 2): void {
  ctx
    .fromValues('a b', 'b c')
    .flatMap((line: string) => line.split(' '))
    .map((w): [string, number] => [w, 1])
    .keyBy((pair) => pair[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .setParallelism(p)
    .sink(() => {});
}

beforeEach(() => {
  setDefaultRunner(undefined);
  setRunnerOverride(undefined);
});

afterEach(() => {
  setDefaultRunner(undefined);
  setRunnerOverride(undefined);
});

describe('sources', () => {
  it('fromValues holds the values in a collection source', () => {
    const ctx = withRunner();
    const s = ctx.fromValues(1, 2, 3);
    expect(s.id).toBe('source-1');
    const [n] = ctx.graph().nodes;
    expect(n).toMatchObject({ id: 'source-1', kind: 'source', name: 'fromValues', fn: undefined, source: { type: 'collection', size: 3 } });
    expect(n.data).toEqual([1, 2, 3]);
  });

  it('fromValues with no values is an empty collection', () => {
    const ctx = withRunner();
    ctx.fromValues();
    expect(ctx.graph().nodes[0]).toMatchObject({ source: { type: 'collection', size: 0 }, data: [] });
  });

  it('fromCollection copies an array: later changes to it do not reach the job', () => {
    const ctx = withRunner();
    const input = [1, 2];
    ctx.fromCollection(input);
    input.push(3);
    input[0] = 99;
    const [n] = ctx.graph().nodes;
    expect(n.name).toBe('fromCollection');
    expect(n.data).toEqual([1, 2]);
    expect(n.data).not.toBe(input);
    expect(n.source).toEqual({ type: 'collection', size: 2 });
  });

  it('fromCollection accepts a Set and copies it', () => {
    const ctx = withRunner();
    const set = new Set(['x', 'y']);
    ctx.fromCollection(set);
    set.add('z');
    expect(ctx.graph().nodes[0].data).toEqual(['x', 'y']);
  });

  it('fromCollection accepts a generator and reads it once, when called', () => {
    const ctx = withRunner();
    let pulled = 0;
    function* gen(): Generator<number> {
      for (let i = 0; i < 3; i++) {
        pulled++;
        yield i * 10;
      }
    }
    ctx.fromCollection(gen());
    expect(pulled).toBe(3);
    ctx.graph();
    ctx.graph();
    expect(pulled).toBe(3);
    expect(ctx.graph().nodes[0]).toMatchObject({ data: [0, 10, 20], source: { type: 'collection', size: 3 } });
  });

  it.each([42, null, undefined, { length: 2 }])('fromCollection(%s) throws PLAN_INVALID_FUNCTION', (arg) => {
    const ctx = withRunner();
    const e = (() => {
      try {
        ctx.fromCollection(arg as any);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PlanError);
    expect((e as PlanError).code).toBe('PLAN_INVALID_FUNCTION');
    expect(ctx.graph().nodes).toHaveLength(0);
  });

  it('readTextFile stores an absolute path', () => {
    const ctx = withRunner();
    ctx.readTextFile('data/input.txt');
    ctx.readTextFile('./input.txt');
    ctx.readTextFile('/var/tmp/words.txt');
    ctx.readTextFile('C:\\data\\words.txt');
    const paths = ctx.graph().nodes.map((n) => (n.source?.type === 'textFile' ? n.source.path : undefined));
    expect(paths).toEqual([resolve('data/input.txt'), resolve('input.txt'), '/var/tmp/words.txt', 'C:\\data\\words.txt']);
    expect(isAbsolute(paths[0]!)).toBe(true);
    expect(ctx.graph().nodes[0]).toMatchObject({ kind: 'source', name: 'readTextFile', fn: undefined });
    expect(ctx.graph().nodes[0].data).toBeUndefined();
  });

  it('readTextFile rejects an empty or non-string path', () => {
    const ctx = withRunner();
    expect(() => ctx.readTextFile('')).toThrow(expect.objectContaining({ code: 'PLAN_INVALID_FUNCTION' }));
    expect(() => ctx.readTextFile(7 as any)).toThrow(PlanError);
  });

  it('source(fn) accepts an object with fetch(ctx) and keeps it by reference', () => {
    const ctx = withRunner();
    const src = {
      n: 0,
      init(_parallelism: number, _index: number) {
        this.n = 0;
      },
      fetch(c: SourceContext<number>) {
        if (this.n < 3) c.collect(this.n++);
        else c.end();
      },
    };
    ctx.source(src).sink(() => {});
    const [n] = ctx.graph().nodes;
    expect(n).toMatchObject({ id: 'source-1', kind: 'source', name: 'source', source: { type: 'function' } });
    expect(n.fn).toBe(src);
    expect(n.data).toBeUndefined();
  });

  it('source(fn) accepts an object with run(ctx)', () => {
    const ctx = withRunner();
    const src = {
      async run(c: SourceContext<string>) {
        await c.collect('only');
      },
    };
    ctx.source(src);
    expect(ctx.graph().nodes[0].fn).toBe(src);
  });

  it.each([
    ['a plain function', () => {}],
    ['an object without fetch or run', { open() {} }],
    ['null', null],
  ])('source(%s) throws PLAN_INVALID_FUNCTION', (_label, arg) => {
    const ctx = withRunner();
    expect(() => ctx.source(arg as any)).toThrow(expect.objectContaining({ name: 'PlanError', code: 'PLAN_INVALID_FUNCTION' }));
    expect(ctx.graph().nodes).toHaveLength(0);
  });
});

describe('builder and graph', () => {
  it('option() lands in graph.config', () => {
    const builder = StreamingContext.builder();
    expect(builder).toBeInstanceOf(StreamingContextBuilder);
    expect(builder.option('parallelism.default', 4)).toBe(builder);
    const ctx = builder.option('runtime.linger.ms', 2).build();
    expect(ctx.graph().config).toEqual({ 'parallelism.default': 4, 'runtime.linger.ms': 2 });
  });

  it('options set on the builder after build() do not change the built context', () => {
    const builder = StreamingContext.builder().option('parallelism.default', 2);
    const first = builder.build();
    builder.option('parallelism.default', 8).option('runtime.batch.size', 10);
    const second = builder.build();
    expect(first.graph().config).toEqual({ 'parallelism.default': 2 });
    expect(second.graph().config).toEqual({ 'parallelism.default': 8, 'runtime.batch.size': 10 });
  });

  it('buildContext() and new StreamingContext() have no options', () => {
    expect(StreamingContext.buildContext().graph()).toEqual({ config: {}, nodes: [], edges: [] });
    expect(new StreamingContext().graph()).toEqual({ config: {}, nodes: [], edges: [] });
  });

  it('graph() is a snapshot: later changes show in the next graph, not in an earlier one', () => {
    const ctx = withRunner();
    const m = ctx.fromValues(1).map((x) => x);
    const before = ctx.graph();
    m.setParallelism(3).withConfig('runtime.batch.size', 4).uid('m');
    const after = ctx.graph();
    expect(before.nodes[1]).toMatchObject({ id: 'map-2', parallelism: undefined, config: {} });
    expect(after.nodes[1]).toMatchObject({ id: 'm', parallelism: 3, config: { 'runtime.batch.size': 4 } });
  });
});

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
        return { id: 'x', name: options.name, state: 'FAILED', result: () => Promise.reject(failure), cancel: async () => {}, metrics: () => [], events: () => [] };
      },
    };
    const ctx = withRunner(runner);
    wordCount(ctx);
    expect(await rejection(ctx.execute())).toBe(failure);
  });
});

describe('plan, explain and graph hash', () => {
  it('sources take parallelism.default and other operators inherit their first input', () => {
    const ctx = StreamingContext.builder().option('parallelism.default', 3).build();
    const a = ctx.fromValues(1);
    const b = ctx.fromValues(2).setParallelism(5);
    const m = a.map((x) => x);
    const u = m.union(b);
    const s = u.map((x) => x).setParallelism(2).sink(() => {});
    const plan = ctx.plan('p');
    const p = Object.fromEntries(plan.operators.map((o) => [o.id, o.parallelism]));
    expect(p).toEqual({ 'source-1': 3, 'source-2': 5, [m.id]: 3, [u.id]: 3, 'map-5': 2, [s.id]: 2 });
    expect(plan.jobName).toBe('p');
  });

  it('default partitioning is forward between equal parallelism, else rebalance', () => {
    const ctx = StreamingContext.builder().build();
    ctx
      .fromValues(1)
      .map((x) => x)
      .map((x) => x)
      .setParallelism(2)
      .sink(() => {});
    const kinds = Object.fromEntries(ctx.plan().edges.map((e) => [e.id, e.partition]));
    expect(kinds).toEqual({ 'source-1->map-2': 'forward', 'map-2->map-3': 'rebalance', 'map-3->sink-4': 'forward' });
  });

  it('plan() throws the validation errors synchronously', () => {
    const ctx = StreamingContext.builder().option('nope', 1).build();
    ctx.fromValues(1).sink(() => {});
    expect(() => ctx.plan()).toThrow(ConfigError);
  });

  it("explain('mermaid') is a Mermaid flowchart; explain() is text naming the job and operators", () => {
    const ctx = StreamingContext.builder().build();
    wordCount(ctx);
    const mermaid = ctx.explain('mermaid');
    expect(mermaid.startsWith('flowchart LR')).toBe(true);
    expect(mermaid).toContain('reduce');
    const text = ctx.explain('text', 'word_count');
    expect(text).toContain('"word_count"');
    expect(text).toContain('reduce-4');
    expect(ctx.explain()).toBe(ctx.explain('text', 'job'));
  });

  it('two contexts building the same job have the same graph hash', () => {
    const a = StreamingContext.builder().option('parallelism.default', 2).build();
    const b = StreamingContext.builder().option('parallelism.default', 2).build();
    wordCount(a, 3);
    wordCount(b, 3);
    const hash = a.plan().graphHash;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.plan().graphHash).toBe(hash);
  });

  it('the graph hash differs when a parallelism differs', () => {
    const a = StreamingContext.builder().build();
    const b = StreamingContext.builder().build();
    wordCount(a, 2);
    wordCount(b, 4);
    expect(a.plan().graphHash).not.toBe(b.plan().graphHash);
  });
});
