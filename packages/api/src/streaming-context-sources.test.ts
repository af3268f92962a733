import { isAbsolute, resolve } from 'node:path';
import { PlanError, type SourceContext } from '@mobius/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext, StreamingContextBuilder } from './streaming-context.js';
import { resetRunners, withRunner } from './test-context.js';

beforeEach(resetRunners);
afterEach(resetRunners);

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
