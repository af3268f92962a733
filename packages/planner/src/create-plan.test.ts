import { describe, it, expect } from 'vitest';
import { CONFIG_KEYS, keyGroupRangeFor, type ExecutionPlan, type LogicalGraph, type PlanEdge } from '@mobius/interface';
import { createPlan, edgeId } from './create-plan.js';
import { edge, graph, node, wordCount } from './test-graph.js';

const edgeOf = (plan: ExecutionPlan, id: string): PlanEdge => {
  const e = plan.edges.find((x) => x.id === id);
  if (e === undefined) throw new Error(`no plan edge ${id}`);
  return e;
};
const parallelismOf = (plan: ExecutionPlan): Record<string, number> => Object.fromEntries(plan.operators.map((o) => [o.id, o.parallelism]));
const vertexMembers = (plan: ExecutionPlan): string[][] => plan.vertices.map((v) => [...v.operatorIds]);
const channelIds = (plan: ExecutionPlan, edge: string): string[] => plan.channels.filter((c) => c.edgeId === edge).map((c) => c.id);

describe('createPlan: the word count', () => {
  const plan = createPlan(wordCount({ sourceP: 2, reduceP: 3 }), 'word_count');

  it('keeps the job name and applies config defaults', () => {
    expect(plan.jobName).toBe('word_count');
    expect(plan.maxParallelism).toBe(128);
    for (const d of CONFIG_KEYS) expect(plan.config[d.key]).toBe(d.default);
    expect(createPlan(wordCount()).jobName).toBe('job');
  });

  it('lists every operator in topological order with resolved parallelism, vertex and keyed flag', () => {
    expect(plan.operators.map((o) => [o.id, o.name, o.kind, o.parallelism, o.vertexId, o.keyed])).toEqual([
      ['source-0', 'readTextFile', 'source', 2, 'source-0', false],
      ['flatMap-1', 'split', 'flatMap', 2, 'source-0', false],
      ['map-2', 'pair', 'map', 2, 'source-0', false],
      ['reduce-3', 'count', 'reduce', 3, 'reduce-3', true],
      ['filter-4', 'no ray', 'filter', 3, 'reduce-3', false],
      ['sink-5', 'print', 'sink', 3, 'reduce-3', false],
    ]);
  });

  it('chains source → flatMap → map and reduce → filter → sink; keyBy breaks the chain', () => {
    expect(plan.vertices).toEqual([
      { id: 'source-0', name: 'readTextFile -> split -> pair', operatorIds: ['source-0', 'flatMap-1', 'map-2'], parallelism: 2, slotSharingGroup: 'default' },
      { id: 'reduce-3', name: 'count -> no ray -> print', operatorIds: ['reduce-3', 'filter-4', 'sink-5'], parallelism: 3, slotSharingGroup: 'default' },
    ]);
    expect(plan.edges.map((e) => [e.id, e.partition, e.chained])).toEqual([
      ['source-0->flatMap-1', 'forward', true],
      ['flatMap-1->map-2', 'forward', true],
      ['map-2->reduce-3', 'key', false],
      ['reduce-3->filter-4', 'forward', true],
      ['filter-4->sink-5', 'forward', true],
    ]);
    const keyEdge = edgeOf(plan, 'map-2->reduce-3');
    expect([keyEdge.sourceOperator, keyEdge.targetOperator, keyEdge.sourceVertex, keyEdge.targetVertex, keyEdge.inputIndex]).toEqual([
      'map-2',
      'reduce-3',
      'source-0',
      'reduce-3',
      0,
    ]);
  });

  it('keeps a keyBy between equal parallelisms unchained', () => {
    const p = createPlan(wordCount({ sourceP: 2, reduceP: 2 }));
    expect(edgeOf(p, 'map-2->reduce-3').chained).toBe(false);
    expect(p.vertices).toHaveLength(2);
    expect(channelIds(p, 'map-2->reduce-3')).toHaveLength(4);
  });

  it('makes one task per vertex instance, with its key groups', () => {
    expect(plan.tasks).toEqual([
      { id: 'source-0#0', vertexId: 'source-0', index: 0, keyGroups: keyGroupRangeFor(0, 2, 128) },
      { id: 'source-0#1', vertexId: 'source-0', index: 1, keyGroups: keyGroupRangeFor(1, 2, 128) },
      { id: 'reduce-3#0', vertexId: 'reduce-3', index: 0, keyGroups: { start: 0, end: 42 } },
      { id: 'reduce-3#1', vertexId: 'reduce-3', index: 1, keyGroups: { start: 43, end: 85 } },
      { id: 'reduce-3#2', vertexId: 'reduce-3', index: 2, keyGroups: { start: 86, end: 127 } },
    ]);
  });

  it('makes sp × tp channels for the key edge with stable ids', () => {
    expect(plan.channels).toHaveLength(6);
    expect(plan.channels).toContainEqual({ id: 'map-2->reduce-3:1->2', edgeId: 'map-2->reduce-3', sourceTask: 'source-0#1', targetTask: 'reduce-3#2' });
    expect(channelIds(plan, 'map-2->reduce-3')).toEqual([
      'map-2->reduce-3:0->0',
      'map-2->reduce-3:0->1',
      'map-2->reduce-3:0->2',
      'map-2->reduce-3:1->0',
      'map-2->reduce-3:1->1',
      'map-2->reduce-3:1->2',
    ]);
    const taskIds = new Set(plan.tasks.map((t) => t.id));
    for (const c of plan.channels) {
      expect(taskIds.has(c.sourceTask)).toBe(true);
      expect(taskIds.has(c.targetTask)).toBe(true);
    }
  });

  it('uses the job max parallelism for key groups', () => {
    const p = createPlan(wordCount({ reduceP: 2, config: { 'job.max-parallelism': 10 } }));
    expect(p.maxParallelism).toBe(10);
    expect(p.config['job.max-parallelism']).toBe(10);
    expect(p.tasks.filter((t) => t.vertexId === 'reduce-3').map((t) => t.keyGroups)).toEqual([
      { start: 0, end: 4 },
      { start: 5, end: 9 },
    ]);
  });

  it('is deterministic and serialisable (no functions in the plan)', () => {
    const again = createPlan(wordCount({ sourceP: 2, reduceP: 3 }), 'word_count');
    expect(again).toEqual(plan);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('createPlan: parallelism inheritance', () => {
  it('gives sources parallelism.default and lets the others inherit their input', () => {
    const p = createPlan(wordCount({ config: { 'parallelism.default': 4 } }));
    expect(parallelismOf(p)).toEqual({ 'source-0': 4, 'flatMap-1': 4, 'map-2': 4, 'reduce-3': 4, 'filter-4': 4, 'sink-5': 4 });
    expect(p.config['parallelism.default']).toBe(4);
  });

  it('defaults to parallelism 1', () => {
    expect(Object.values(parallelismOf(createPlan(wordCount())))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('prefers an explicit parallelism, which downstream operators then inherit', () => {
    const p = createPlan(wordCount({ sourceP: 3, reduceP: 5, config: { 'parallelism.default': 4 } }));
    expect(parallelismOf(p)).toEqual({ 'source-0': 3, 'flatMap-1': 3, 'map-2': 3, 'reduce-3': 5, 'filter-4': 5, 'sink-5': 5 });
  });

  it('lets a node with several inputs inherit its first input', () => {
    const nodes = [node('a-0', 'source', { parallelism: 2 }), node('b-1', 'source', { parallelism: 5 }), node('u-2', 'union'), node('sink-3', 'sink')];
    const aFirst = createPlan(graph(nodes, [edge('a-0', 'u-2'), edge('b-1', 'u-2'), edge('u-2', 'sink-3')]));
    expect(parallelismOf(aFirst)['u-2']).toBe(2);
    expect(parallelismOf(aFirst)['sink-3']).toBe(2);
    const bFirst = createPlan(graph(nodes, [edge('b-1', 'u-2'), edge('a-0', 'u-2'), edge('u-2', 'sink-3')]));
    expect(parallelismOf(bFirst)['u-2']).toBe(5);
  });
});

describe('createPlan: partitioning', () => {
  it('turns a default forward between unequal parallelisms into rebalance, unchained', () => {
    const g = graph(
      [node('src-0', 'source', { parallelism: 2 }), node('map-1', 'map', { parallelism: 3 }), node('sink-2', 'sink')],
      [edge('src-0', 'map-1'), edge('map-1', 'sink-2')],
    );
    const p = createPlan(g);
    const e = edgeOf(p, 'src-0->map-1');
    expect(e.partition).toBe('rebalance');
    expect(e.chained).toBe(false);
    expect(channelIds(p, 'src-0->map-1')).toHaveLength(6);
    expect(edgeOf(p, 'map-1->sink-2')).toMatchObject({ partition: 'forward', chained: true });
    expect(vertexMembers(p)).toEqual([['src-0'], ['map-1', 'sink-2']]);
  });

  it.each(['rebalance', 'broadcast', 'key', 'custom'] as const)('never chains a %s edge, and gives it sp × tp channels', (kind) => {
    const g = graph(
      [node('src-0', 'source', { parallelism: 2 }), node('op-1', kind === 'key' ? 'reduce' : 'map', { parallelism: 3 })],
      [edge('src-0', 'op-1', kind, { explicit: true })],
    );
    const p = createPlan(g);
    expect(edgeOf(p, 'src-0->op-1')).toMatchObject({ partition: kind, chained: false });
    const ids = channelIds(p, 'src-0->op-1');
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(ids).toContain(`src-0->op-1:${i}->${j}`);
    expect(p.vertices.map((v) => v.id)).toEqual(['src-0', 'op-1']);
  });

  it('keeps partition kinds other than forward even at equal parallelism', () => {
    const g = graph(
      [node('src-0', 'source', { parallelism: 2 }), node('map-1', 'map', { parallelism: 2 })],
      [edge('src-0', 'map-1', 'broadcast', { explicit: true })],
    );
    const p = createPlan(g);
    expect(edgeOf(p, 'src-0->map-1')).toMatchObject({ partition: 'broadcast', chained: false });
    expect(channelIds(p, 'src-0->map-1')).toHaveLength(4);
  });

  it('gives an unchained forward edge one channel per task pair i -> i', () => {
    const g = graph(
      [node('src-0', 'source', { parallelism: 3 }), node('map-1', 'map', { chaining: false })],
      [edge('src-0', 'map-1')],
    );
    const p = createPlan(g);
    expect(edgeOf(p, 'src-0->map-1')).toMatchObject({ partition: 'forward', chained: false });
    expect(p.channels).toEqual([0, 1, 2].map((i) => ({ id: `src-0->map-1:${i}->${i}`, edgeId: 'src-0->map-1', sourceTask: `src-0#${i}`, targetTask: `map-1#${i}` })));
  });

  it('makes no channels for chained edges', () => {
    const p = createPlan(graph([node('src-0', 'source', { parallelism: 4 }), node('map-1', 'map')], [edge('src-0', 'map-1')]));
    expect(edgeOf(p, 'src-0->map-1').chained).toBe(true);
    expect(p.channels).toEqual([]);
    expect(p.tasks.map((t) => t.id)).toEqual(['src-0#0', 'src-0#1', 'src-0#2', 'src-0#3']);
  });
});

describe('createPlan: chaining', () => {
  const chainOf = (mapOptions: Parameters<typeof node>[2] = {}, sourceOptions: Parameters<typeof node>[2] = {}): string[][] =>
    vertexMembers(
      createPlan(
        graph(
          [node('src-0', 'source', sourceOptions), node('flatMap-1', 'flatMap'), node('map-2', 'map', mapOptions), node('sink-3', 'sink')],
          [edge('src-0', 'flatMap-1'), edge('flatMap-1', 'map-2'), edge('map-2', 'sink-3')],
        ),
      ),
    );

  it('chains a forward line of equal parallelism into one vertex', () => {
    expect(chainOf()).toEqual([['src-0', 'flatMap-1', 'map-2', 'sink-3']]);
  });

  it('breaks the chain on both sides of an operator with chaining disabled', () => {
    expect(chainOf({ chaining: false })).toEqual([['src-0', 'flatMap-1'], ['map-2'], ['sink-3']]);
    expect(chainOf({}, { chaining: false })).toEqual([['src-0'], ['flatMap-1', 'map-2', 'sink-3']]);
  });

  it('breaks the chain where the language changes', () => {
    expect(chainOf({ language: 'python' })).toEqual([['src-0', 'flatMap-1'], ['map-2'], ['sink-3']]);
  });

  it('breaks the chain where the parallelism changes', () => {
    expect(chainOf({ parallelism: 2 })).toEqual([['src-0', 'flatMap-1'], ['map-2', 'sink-3']]);
  });

  it('starts a chain at a node with two inputs (union), which chains on downstream', () => {
    const g = graph(
      [node('a-0', 'source', { parallelism: 2 }), node('b-1', 'source', { parallelism: 2 }), node('u-2', 'union', { name: 'merge' }), node('sink-3', 'sink')],
      [edge('a-0', 'u-2'), edge('b-1', 'u-2'), edge('u-2', 'sink-3')],
    );
    const p = createPlan(g);
    expect(vertexMembers(p)).toEqual([['a-0'], ['b-1'], ['u-2', 'sink-3']]);
    expect(edgeOf(p, 'a-0->u-2')).toMatchObject({ partition: 'forward', chained: false, inputIndex: 0, targetVertex: 'u-2' });
    expect(edgeOf(p, 'b-1->u-2')).toMatchObject({ partition: 'forward', chained: false, inputIndex: 1, targetVertex: 'u-2' });
    expect(channelIds(p, 'a-0->u-2')).toEqual(['a-0->u-2:0->0', 'a-0->u-2:1->1']);
    expect(p.vertices.find((v) => v.id === 'u-2')?.name).toBe('merge -> sink-3');
  });

  it('chains each branch of a fan-out into the upstream vertex', () => {
    const g = graph(
      [node('src-0', 'source'), node('m-1', 'map'), node('m-2', 'map')],
      [edge('src-0', 'm-1'), edge('src-0', 'm-2')],
    );
    const p = createPlan(g);
    expect(vertexMembers(p)).toEqual([['src-0', 'm-1', 'm-2']]);
    expect(p.operators.every((o) => o.vertexId === 'src-0')).toBe(true);
  });

  it('names vertices by their operators and ids them by their head', () => {
    const p = createPlan(wordCount({ sourceP: 2, reduceP: 3 }));
    for (const v of p.vertices) {
      expect(v.id).toBe(v.operatorIds[0]);
      expect(v.name).toBe(v.operatorIds.map((id) => p.operators.find((o) => o.id === id)!.name).join(' -> '));
      for (const id of v.operatorIds) expect(p.operators.find((o) => o.id === id)!.parallelism).toBe(v.parallelism);
    }
    expect(p.tasks).toHaveLength(p.vertices.reduce((n, v) => n + v.parallelism, 0));
  });
});

describe('createPlan: operator config', () => {
  it('keeps operator config on the plan operator', () => {
    const g = graph([node('src-0', 'source'), node('map-1', 'map', { config: { 'runtime.batch.size': 16 } })], [edge('src-0', 'map-1', 'rebalance')]);
    expect(createPlan(g).operators[1].config).toEqual({ 'runtime.batch.size': 16 });
  });
});

describe('edgeId', () => {
  it('is source->target', () => {
    expect(edgeId({ source: 'a-1', target: 'b-2' })).toBe('a-1->b-2');
  });
});

describe('graph hash in the plan', () => {
  const base = (): LogicalGraph => wordCount({ sourceP: 2, reduceP: 3 });
  it('is the same for equal graphs and differs for a different one', () => {
    expect(createPlan(base()).graphHash).toBe(createPlan(base()).graphHash);
    expect(createPlan(base()).graphHash).not.toBe(createPlan(wordCount({ sourceP: 2, reduceP: 4 })).graphHash);
  });
});
