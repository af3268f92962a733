import { type LogicalEdge, type LogicalGraph, type LogicalNode } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { DataStream, KeyedStream, StreamSink } from './data-stream.js';
import { StreamingContext } from './streaming-context.js';
import { expectPlanError } from '@mobius/testkit';

function node(graph: LogicalGraph, id: string): LogicalNode {
  const found = graph.nodes.find((n) => n.id === id);
  if (found === undefined) throw new Error(`no node ${id} in ${graph.nodes.map((n) => n.id).join(', ')}`);
  return found;
}

function edgesInto(graph: LogicalGraph, id: string): LogicalEdge[] {
  return graph.edges.filter((e) => e.target === id);
}



const ctx = (): StreamingContext => StreamingContext.builder().build();

describe('DataStream: one-input operations', () => {
  it('map, flatMap, filter and sink add one node each, linked by default forward edges', () => {
    const c = ctx();
    const m = (x: number): number => x + 1;
    const fm = (x: number): number[] => [x, x];
    const f = (x: number): boolean => x > 1;
    const s = (_x: number): void => {};
    c.fromValues(1, 2, 3).map(m).flatMap(fm).filter(f).sink(s);
    const g = c.graph();

    expect(g.nodes.map((n) => [n.id, n.kind, n.name])).toEqual([
      ['source-1', 'source', 'fromValues'],
      ['map-2', 'map', 'map'],
      ['flatMap-3', 'flatMap', 'flatMap'],
      ['filter-4', 'filter', 'filter'],
      ['sink-5', 'sink', 'sink'],
    ]);
    expect(node(g, 'map-2').fn).toBe(m);
    expect(node(g, 'flatMap-3').fn).toBe(fm);
    expect(node(g, 'filter-4').fn).toBe(f);
    expect(node(g, 'sink-5').fn).toBe(s);
    expect(g.edges.map((e) => [e.source, e.target, e.partition.kind, e.partition.explicit])).toEqual([
      ['source-1', 'map-2', 'forward', false],
      ['map-2', 'flatMap-3', 'forward', false],
      ['flatMap-3', 'filter-4', 'forward', false],
      ['filter-4', 'sink-5', 'forward', false],
    ]);
    for (const n of g.nodes) {
      expect(n).toMatchObject({ uid: undefined, parallelism: undefined, config: {}, chaining: true, language: 'typescript' });
    }
  });

  it('accepts rich function objects and keeps them by reference', () => {
    const c = ctx();
    const mapper = { map: (x: number) => x * 2, open() {} };
    const flat = { flatMap: (x: number) => [x] };
    const filt = { filter: (x: number) => x > 0 };
    const sinker = { sink: (_x: number) => {}, close() {} };
    c.fromValues(1).map(mapper).flatMap(flat).filter(filt).sink(sinker);
    const g = c.graph();
    expect(node(g, 'map-2').fn).toBe(mapper);
    expect(node(g, 'flatMap-3').fn).toBe(flat);
    expect(node(g, 'filter-4').fn).toBe(filt);
    expect(node(g, 'sink-5').fn).toBe(sinker);
  });

  it('returns new DataStream objects for new operators', () => {
    const c = ctx();
    const src = c.fromValues(1);
    const mapped = src.map((x) => x);
    expect(mapped).toBeInstanceOf(DataStream);
    expect(mapped).not.toBe(src);
    expect(mapped.id).toBe('map-2');
    expect(src.id).toBe('source-1');
  });

  it('fans out: one stream read by two operators gives two edges from the same node', () => {
    const c = ctx();
    const src = c.fromValues(1);
    src.map((x) => x).sink(() => {});
    src.filter(() => true).sink(() => {});
    const g = c.graph();
    expect(g.edges.filter((e) => e.source === 'source-1').map((e) => e.target)).toEqual(['map-2', 'filter-4']);
  });
});

describe('keyBy and reduce', () => {
  it('keyBy adds no node; the next edge is a key edge holding the selector', () => {
    const c = ctx();
    type Pair = [string, number];
    const selector = (p: Pair): string => p[0];
    const reducer = (a: Pair, b: Pair): Pair => [a[0], a[1] + b[1]];
    const keyed = c.fromValues<Pair>(['a', 1], ['b', 2]).keyBy(selector);
    expect(keyed).toBeInstanceOf(KeyedStream);
    expect(c.graph().nodes).toHaveLength(1);

    const reduced = keyed.reduce(reducer);
    expect(reduced).toBeInstanceOf(DataStream);
    const g = c.graph();
    expect(node(g, 'reduce-2')).toMatchObject({ kind: 'reduce', name: 'reduce', fn: reducer });
    const [edge] = edgesInto(g, 'reduce-2');
    expect(edge.source).toBe('source-1');
    expect(edge.partition.kind).toBe('key');
    expect(edge.partition.explicit).toBe(true);
    expect(edge.partition.keySelector).toBe(selector);
  });

  it('accepts a rich reduce function', () => {
    const c = ctx();
    const r = { reduce: (a: number, b: number) => a + b };
    c.fromValues(1, 2).keyBy((x) => x % 2).reduce(r);
    expect(node(c.graph(), 'reduce-2').fn).toBe(r);
  });

  it('keyed map, flatMap, filter and sink also read through a key edge', () => {
    const c = ctx();
    const sel = (x: number): number => x % 3;
    const keyed = c.fromValues(1, 2, 3).keyBy(sel);
    keyed.map((x) => x);
    keyed.flatMap((x) => [x]);
    keyed.filter(() => true);
    const sink = keyed.sink(() => {});
    expect(sink).toBeInstanceOf(StreamSink);
    const g = c.graph();
    expect(g.nodes.map((n) => n.id)).toEqual(['source-1', 'map-2', 'flatMap-3', 'filter-4', 'sink-5']);
    for (const e of g.edges) {
      expect(e.source).toBe('source-1');
      expect(e.partition).toMatchObject({ kind: 'key', explicit: true });
      expect(e.partition.keySelector).toBe(sel);
    }
  });

  it('the stream after reduce is not keyed: its next edge is forward again', () => {
    const c = ctx();
    c.fromValues(1)
      .keyBy((x) => x)
      .reduce((a, b) => a + b)
      .map((x) => x);
    expect(edgesInto(c.graph(), 'map-3')[0].partition).toMatchObject({ kind: 'forward', explicit: false });
  });

  it('reduce on a non-keyed stream throws PLAN_NOT_KEYED naming keyBy', () => {
    const c = ctx();
    const mapped = c.fromValues(1).map((x) => x);
    const e = expectPlanError(() => (mapped as any).reduce((a: number, b: number) => a + b), 'PLAN_NOT_KEYED');
    expect(e.message).toContain('keyBy()');
    expect(e.message).toContain('map-2');
    expect(e.operatorId).toBe('map-2');
    expect(c.graph().nodes).toHaveLength(2);
  });
});

describe('union', () => {
  it('a.union(b, c) creates one union node with three input edges in order', () => {
    const c = ctx();
    const a = c.fromValues(1);
    const b = c.fromValues(2);
    const d = c.fromValues(3);
    const u = a.union(b, d);
    expect(u).toBeInstanceOf(DataStream);
    expect(u.id).toBe('union-4');
    const g = c.graph();
    expect(node(g, 'union-4')).toMatchObject({ kind: 'union', name: 'union', fn: undefined });
    expect(edgesInto(g, 'union-4').map((e) => e.source)).toEqual(['source-1', 'source-2', 'source-3']);
    for (const e of edgesInto(g, 'union-4')) expect(e.partition).toMatchObject({ kind: 'forward', explicit: false });
  });

  it('each input keeps the partitioning chosen on it', () => {
    const c = ctx();
    const a = c.fromValues(1);
    const b = c.fromValues(2);
    a.rebalance().union(b.broadcast());
    expect(edgesInto(c.graph(), 'union-3').map((e) => e.partition.kind)).toEqual(['rebalance', 'broadcast']);
  });

  it('rejects an argument that is not a DataStream without changing the graph', () => {
    const c = ctx();
    const a = c.fromValues(1);
    expectPlanError(() => a.union({} as any), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => a.union(a.keyBy((x) => x) as any), 'PLAN_INVALID_FUNCTION');
    expect(c.graph().nodes).toHaveLength(1);
    expect(c.graph().edges).toHaveLength(0);
  });

  it('rejects a stream of another context without changing either graph', () => {
    const c1 = ctx();
    const c2 = ctx();
    const a = c1.fromValues(1);
    const b = c2.fromValues(2);
    expectPlanError(() => a.union(b), 'PLAN_INVALID_FUNCTION');
    expect(c1.graph().nodes).toHaveLength(1);
    expect(c2.graph().edges).toHaveLength(0);
  });
});

describe('partitioning of the next edge', () => {
  const cases = [
    ['broadcast', (s: DataStream<number>) => s.broadcast()],
    ['custom', (s: DataStream<number>) => s.partitionBy((x, n) => x % n)],
    ['forward', (s: DataStream<number>) => s.forward()],
    ['rebalance', (s: DataStream<number>) => s.rebalance()],
  ] as const;

  it.each(cases)('%s applies to the next edge only', (kind, repartition) => {
    const c = ctx();
    const src = c.fromValues(1, 2);
    const view = repartition(src);
    expect(view).toBeInstanceOf(DataStream);
    expect(view).not.toBe(src);
    expect(view.id).toBe('source-1');
    view.map((x) => x).map((x) => x);
    src.filter(() => true);
    const g = c.graph();
    expect(g.nodes).toHaveLength(4);
    expect(edgesInto(g, 'map-2')[0].partition).toMatchObject({ kind, explicit: true });
    expect(edgesInto(g, 'map-3')[0].partition).toMatchObject({ kind: 'forward', explicit: false });
    // The stream that was repartitioned is not changed by it.
    expect(edgesInto(g, 'filter-4')[0].partition).toMatchObject({ kind: 'forward', explicit: false });
  });

  it('partitionBy keeps the function or partition() object by reference', () => {
    const c = ctx();
    const fn = (x: number, n: number): number => x % n;
    const obj = { partition: (x: number, n: number) => [x % n] };
    c.fromValues(1).partitionBy(fn).sink(() => {});
    c.fromValues(2).partitionBy(obj).sink(() => {});
    const g = c.graph();
    expect(edgesInto(g, 'sink-2')[0].partition.partitioner).toBe(fn);
    expect(edgesInto(g, 'sink-4')[0].partition.partitioner).toBe(obj);
  });

  it('the last partitioning call wins', () => {
    const c = ctx();
    c.fromValues(1).broadcast().rebalance().sink(() => {});
    expect(c.graph().edges[0].partition.kind).toBe('rebalance');
  });

  it('settings on a repartitioned view apply to the operator that made the stream', () => {
    const c = ctx();
    const src = c.fromValues(1);
    src.broadcast().setParallelism(3).name('numbers');
    expect(node(c.graph(), 'source-1')).toMatchObject({ parallelism: 3, name: 'numbers' });
  });
});

describe('operator settings', () => {
  it('setParallelism, withConfig, disableChain and name change the node and return the same stream', () => {
    const c = ctx();
    const m = c.fromValues(1).map((x) => x);
    expect(m.getParallelism()).toBeUndefined();
    expect(m.setParallelism(4)).toBe(m);
    expect(m.withConfig('runtime.batch.size', 16)).toBe(m);
    expect(m.withConfig('runtime.linger.ms', 0)).toBe(m);
    expect(m.disableChain()).toBe(m);
    expect(m.name('double')).toBe(m);
    expect(m.getParallelism()).toBe(4);
    expect(node(c.graph(), 'map-2')).toMatchObject({
      name: 'double',
      parallelism: 4,
      chaining: false,
      config: { 'runtime.batch.size': 16, 'runtime.linger.ms': 0 },
    });
    // Other nodes are untouched.
    expect(node(c.graph(), 'source-1')).toMatchObject({ name: 'fromValues', parallelism: undefined, chaining: true, config: {} });
  });

  it('sink returns a StreamSink whose settings apply to the sink node', () => {
    const c = ctx();
    const sink = c.fromValues(1).sink(() => {});
    expect(sink).toBeInstanceOf(StreamSink);
    expect(sink.id).toBe('sink-2');
    const same = sink.setParallelism(2).name('out').withConfig('runtime.batch.size', 8).disableChain().uid('my-sink');
    expect(same).toBe(sink);
    expect(sink.id).toBe('my-sink');
    expect(sink.getParallelism()).toBe(2);
    const g = c.graph();
    expect(node(g, 'my-sink')).toMatchObject({
      uid: 'my-sink',
      kind: 'sink',
      name: 'out',
      parallelism: 2,
      chaining: false,
      config: { 'runtime.batch.size': 8 },
    });
    expect(g.edges).toEqual([expect.objectContaining({ source: 'source-1', target: 'my-sink' })]);
  });
});

describe('operator ids', () => {
  it('are `${kind}-${n}` in creation order across pipelines', () => {
    const c = ctx();
    const a = c.fromValues(1);
    const b = c.fromValues(2);
    const am = a.map((x) => x);
    const bf = b.filter(() => true);
    am.union(bf).keyBy((x) => x).reduce((x, y) => x + y).sink(() => {});
    expect(c.graph().nodes.map((n) => n.id)).toEqual(['source-1', 'source-2', 'map-3', 'filter-4', 'union-5', 'reduce-6', 'sink-7']);
  });

  it('uid() replaces the id in nodes and in the edges on both sides, even when set later', () => {
    const c = ctx();
    const m = c.fromValues(1).map((x) => x);
    m.filter(() => true).sink(() => {});
    m.uid('parser');
    const g = c.graph();
    expect(m.id).toBe('parser');
    expect(g.nodes.map((n) => n.id)).toEqual(['source-1', 'parser', 'filter-3', 'sink-4']);
    expect(node(g, 'parser').uid).toBe('parser');
    expect(g.edges.map((e) => `${e.source}->${e.target}`)).toEqual(['source-1->parser', 'parser->filter-3', 'filter-3->sink-4']);
  });

  it('uid() on a source renames the key edge leaving it', () => {
    const c = ctx();
    c.fromValues(1)
      .uid('numbers')
      .keyBy((x) => x)
      .reduce((a, b) => a + b);
    expect(c.graph().edges.map((e) => [e.source, e.target, e.partition.kind])).toEqual([['numbers', 'reduce-2', 'key']]);
  });
});

describe('function arguments are checked when the operation is called', () => {
  const bad: [string, unknown][] = [
    ['a number', 42],
    ['a string', 'x => x'],
    ['null', null],
    ['undefined', undefined],
    ['an object without the method', { other() {} }],
  ];

  it.each(bad)('rejects %s with PLAN_INVALID_FUNCTION and leaves the graph unchanged', (_label, arg) => {
    const c = ctx();
    const s = c.fromValues(1) as DataStream<number>;
    const a = arg as any;
    expectPlanError(() => s.map(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => s.flatMap(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => s.filter(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => s.sink(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => s.partitionBy(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => s.keyBy(a), 'PLAN_INVALID_FUNCTION');
    const k = s.keyBy((x) => x);
    expectPlanError(() => k.reduce(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => k.map(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => k.flatMap(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => k.filter(a), 'PLAN_INVALID_FUNCTION');
    expectPlanError(() => k.sink(a), 'PLAN_INVALID_FUNCTION');
    expect(c.graph().nodes).toHaveLength(1);
    expect(c.graph().edges).toHaveLength(0);
  });

  it('keyBy rejects a rich object: a key selector must be a function', () => {
    const s = ctx().fromValues(1);
    expectPlanError(() => s.keyBy({ getKey: (x: number) => x } as any), 'PLAN_INVALID_FUNCTION');
  });

  it('a rich object of the wrong kind is rejected, naming the method it needs', () => {
    const s = ctx().fromValues(1);
    const e = expectPlanError(() => s.map({ filter: () => true } as any), 'PLAN_INVALID_FUNCTION');
    expect(e.message).toContain('map()');
    const p = expectPlanError(() => s.partitionBy({ map: (x: number) => x } as any), 'PLAN_INVALID_FUNCTION');
    expect(p.message).toContain('partitionBy()');
    expect(p.message).toContain('partition()');
  });
});

describe('slotSharingGroup', () => {
  it('records the group on the operator it is called on, inherited downstream in the plan', () => {
    const c = ctx();
    const source = c.fromValues(1, 2, 3);
    const heavy = source.map((x: number) => x * 2).slotSharingGroup('heavy').setParallelism(2);
    const sink = heavy.filter((x: number) => x > 2).sink(() => {});
    const g = c.graph();
    expect(node(g, heavy.id).slotSharingGroup).toBe('heavy');
    expect(node(g, source.id).slotSharingGroup).toBeUndefined();
    const groups = Object.fromEntries(c.plan().vertices.map((v) => [v.operatorIds.join(','), v.slotSharingGroup]));
    expect(groups).toEqual({ [source.id]: 'default', [[heavy.id, edgesOut(g, heavy.id), sink.id].join(',')]: 'heavy' });
  });

  it('is validated when the job is planned: an empty name is a PlanError', () => {
    const c = ctx();
    c.fromValues(1).map((x: number) => x).slotSharingGroup('').sink(() => {});
    expectPlanError(() => c.plan(), 'PLAN_INVALID_SLOT_SHARING_GROUP');
  });
});

function edgesOut(graph: LogicalGraph, id: string): string {
  return graph.edges.filter((e) => e.source === id).map((e) => e.target).join(',');
}
