import { describe, it, expect } from 'vitest';
import { ConfigError, MobiusError, PlanError, type LogicalGraph } from '@mobius/interface';
import { createPlan } from './create-plan.js';
import { KEYED_KINDS, validateGraph } from './validate-graph.js';
import { edge, graph, node, wordCount } from './test-graph.js';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, but nothing was thrown');
}

function planError(g: LogicalGraph): PlanError {
  const e = thrownBy(() => createPlan(g, 'job'));
  expect(e).toBeInstanceOf(PlanError);
  expect(e).toBeInstanceOf(MobiusError);
  return e as PlanError;
}

function configError(g: LogicalGraph): ConfigError {
  const e = thrownBy(() => createPlan(g, 'job'));
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

/** source → map → sink, with the map's options. */
const line = (mapOptions: Parameters<typeof node>[2] = {}, config = {}): LogicalGraph =>
  graph(
    [node('src-0', 'source'), node('map-1', 'map', { name: 'parse', ...mapOptions }), node('sink-2', 'sink')],
    [edge('src-0', 'map-1'), edge('map-1', 'sink-2')],
    config,
  );

describe('validation: parallelism', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects parallelism %d with PLAN_INVALID_PARALLELISM naming the operator and value', (p) => {
    const e = planError(line({ parallelism: p }));
    expect(e.code).toBe('PLAN_INVALID_PARALLELISM');
    expect(e.operatorId).toBe('map-1');
    expect(e.message).toContain('"parse"');
    expect(e.message).toContain('map-1');
    expect(e.message).toContain(`got ${String(p)}`);
  });

  it('rejects an invalid parallelism on a source too', () => {
    const g = graph([node('src-0', 'source', { name: 'numbers', parallelism: 0 }), node('sink-1', 'sink')], [edge('src-0', 'sink-1')]);
    const e = planError(g);
    expect(e.code).toBe('PLAN_INVALID_PARALLELISM');
    expect(e.message).toContain('"numbers" (src-0)');
  });

  it('accepts parallelism 1 and large integers', () => {
    expect(() => createPlan(line({ parallelism: 1 }))).not.toThrow();
    expect(() => createPlan(line({ parallelism: 64 }))).not.toThrow();
  });
});

describe('validation: keyed operators', () => {
  it('declares reduce as keyed', () => {
    expect(KEYED_KINDS.has('reduce')).toBe(true);
    expect(KEYED_KINDS.has('map')).toBe(false);
  });

  it.each(['forward', 'rebalance', 'broadcast'] as const)('rejects a reduce whose input is %s with PLAN_NOT_KEYED', (kind) => {
    const g = graph(
      [node('src-0', 'source'), node('reduce-1', 'reduce', { name: 'sum' }), node('sink-2', 'sink')],
      [edge('src-0', 'reduce-1', kind), edge('reduce-1', 'sink-2')],
    );
    const e = planError(g);
    expect(e.code).toBe('PLAN_NOT_KEYED');
    expect(e.operatorId).toBe('reduce-1');
    expect(e.message).toContain('"sum" (reduce-1)');
    expect(e.message).toContain('keyBy()');
    expect(e.message).toContain('src-0');
  });

  it('rejects a reduce with one keyed and one non-keyed input', () => {
    const g = graph(
      [node('a-0', 'source'), node('b-1', 'source'), node('reduce-2', 'reduce'), node('sink-3', 'sink')],
      [edge('a-0', 'reduce-2', 'key'), edge('b-1', 'reduce-2', 'rebalance'), edge('reduce-2', 'sink-3')],
    );
    const e = planError(g);
    expect(e.code).toBe('PLAN_NOT_KEYED');
    expect(e.message).toContain('b-1');
  });

  it('accepts a reduce after keyBy', () => {
    expect(() => createPlan(wordCount())).not.toThrow();
  });

  it('rejects a key edge without a key selector and a custom edge without a partitioner (PLAN_INVALID_FUNCTION)', () => {
    const noSelector = graph(
      [node('src-0', 'source'), node('reduce-1', 'reduce')],
      [{ source: 'src-0', target: 'reduce-1', partition: { kind: 'key', explicit: true } }],
    );
    expect(planError(noSelector).code).toBe('PLAN_INVALID_FUNCTION');
    const noPartitioner = graph(
      [node('src-0', 'source'), node('map-1', 'map')],
      [{ source: 'src-0', target: 'map-1', partition: { kind: 'custom', explicit: true, partitioner: 3 } }],
    );
    const e = planError(noPartitioner);
    expect(e.code).toBe('PLAN_INVALID_FUNCTION');
    expect(e.operatorId).toBe('map-1');
  });

  it('accepts a custom partitioner given as a function or as an object with partition()', () => {
    const withObject = graph(
      [node('src-0', 'source'), node('map-1', 'map')],
      [{ source: 'src-0', target: 'map-1', partition: { kind: 'custom', explicit: true, partitioner: { partition: () => 0 } } }],
    );
    expect(() => createPlan(withObject)).not.toThrow();
    expect(() => createPlan(graph([node('src-0', 'source'), node('map-1', 'map')], [edge('src-0', 'map-1', 'custom')]))).not.toThrow();
  });
});

describe('validation: structure', () => {
  it('rejects the same edge twice (a union of a stream with itself) with PLAN_SELF_UNION', () => {
    const g = graph(
      [node('src-0', 'source', { name: 'numbers' }), node('union-1', 'union', { name: 'both' }), node('sink-2', 'sink')],
      [edge('src-0', 'union-1'), edge('src-0', 'union-1'), edge('union-1', 'sink-2')],
    );
    const e = planError(g);
    expect(e.code).toBe('PLAN_SELF_UNION');
    expect(e.operatorId).toBe('union-1');
    expect(e.message).toContain('"both" (union-1)');
    expect(e.message).toContain('"numbers" (src-0)');
  });

  it('rejects the same pair even with different partitioning', () => {
    const g = graph([node('src-0', 'source'), node('union-1', 'union')], [edge('src-0', 'union-1'), edge('src-0', 'union-1', 'rebalance')]);
    expect(planError(g).code).toBe('PLAN_SELF_UNION');
  });

  it('rejects a cycle with PLAN_CYCLE naming the operators on it', () => {
    const g = graph(
      [node('src-0', 'source'), node('union-1', 'union', { name: 'merge' }), node('map-2', 'map', { name: 'loop' }), node('sink-3', 'sink')],
      [edge('src-0', 'union-1'), edge('union-1', 'map-2'), edge('map-2', 'union-1'), edge('map-2', 'sink-3')],
    );
    const e = planError(g);
    expect(e.code).toBe('PLAN_CYCLE');
    expect(e.message).toContain('"merge" (union-1)');
    expect(e.message).toContain('"loop" (map-2)');
    expect(e.message).not.toContain('src-0');
    expect(['union-1', 'map-2']).toContain(e.operatorId);
  });

  it('rejects a cycle without any source', () => {
    const g = graph([node('a-0', 'map'), node('b-1', 'map')], [edge('a-0', 'b-1'), edge('b-1', 'a-0')]);
    expect(planError(g).code).toBe('PLAN_CYCLE');
  });

  it('rejects a self loop', () => {
    const g = graph([node('src-0', 'source'), node('u-1', 'union')], [edge('src-0', 'u-1'), edge('u-1', 'u-1')]);
    expect(planError(g).code).toBe('PLAN_CYCLE');
  });

  it('rejects duplicate operator ids with PLAN_DUPLICATE_UID', () => {
    const g = graph([node('src-0', 'source'), node('same', 'map'), node('same', 'sink')], [edge('src-0', 'same')]);
    const e = planError(g);
    expect(e.code).toBe('PLAN_DUPLICATE_UID');
    expect(e.operatorId).toBe('same');
    expect(e.message).toContain("'same'");
    expect(e.message).toContain('uid()');
  });

  it('rejects an empty graph with PLAN_EMPTY', () => {
    const e = planError(graph([], []));
    expect(e.code).toBe('PLAN_EMPTY');
    expect(e.operatorId).toBeUndefined();
  });

  it('rejects an edge to an unknown operator with PLAN_UNKNOWN_OPERATOR', () => {
    const e = planError(graph([node('src-0', 'source')], [edge('src-0', 'ghost-9')]));
    expect(e.code).toBe('PLAN_UNKNOWN_OPERATOR');
    expect(e.message).toContain('ghost-9');
    expect(planError(graph([node('m-0', 'map')], [edge('ghost-1', 'm-0')])).message).toContain('ghost-1');
  });

  it('rejects a non-source without input and a source with an input (PLAN_NO_INPUT)', () => {
    const orphan = planError(graph([node('src-0', 'source'), node('map-1', 'map', { name: 'lonely' })], []));
    expect(orphan.code).toBe('PLAN_NO_INPUT');
    expect(orphan.message).toContain('"lonely" (map-1)');
    const fed = planError(graph([node('src-0', 'source'), node('src-1', 'source')], [edge('src-0', 'src-1')]));
    expect(fed.code).toBe('PLAN_NO_INPUT');
    expect(fed.operatorId).toBe('src-1');
  });
});

describe('validation: configuration', () => {
  it('rejects an unknown job config key with CONFIG_UNKNOWN_KEY naming the key', () => {
    const e = configError(line({}, { 'runtime.batch.sise': 10 }));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(e.key).toBe('runtime.batch.sise');
    expect(e.message).toContain("'runtime.batch.sise'");
    expect(e.message).toContain('job options');
    expect(e.message).toContain("did you mean 'runtime.batch.size'?");
  });

  it('rejects an unknown operator config key naming the key and the operator', () => {
    const e = configError(line({ config: { 'runtime.lingr.ms': 1 } }));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(e.key).toBe('runtime.lingr.ms');
    expect(e.message).toContain("'runtime.lingr.ms'");
    expect(e.message).toContain('"parse" (map-1)');
  });

  it('rejects a bad value and a job-only key on an operator', () => {
    const bad = configError(line({}, { 'job.max-parallelism': 0 }));
    expect(bad.code).toBe('CONFIG_INVALID_VALUE');
    expect(bad.key).toBe('job.max-parallelism');
    const scope = configError(line({ config: { 'parallelism.default': 4 } }));
    expect(scope.code).toBe('CONFIG_WRONG_SCOPE');
    expect(scope.message).toContain('"parse" (map-1)');
  });

  it('accepts valid job and operator config', () => {
    expect(() => createPlan(line({ config: { 'runtime.batch.size': 8 } }, { 'runtime.linger.ms': 1, 'parallelism.default': 3 }))).not.toThrow();
  });
});

describe('validation: parallelism between operators', () => {
  it('rejects an explicit forward between different parallelisms with PLAN_FORWARD_PARALLELISM', () => {
    const g = graph(
      [node('src-0', 'source', { name: 'numbers', parallelism: 2 }), node('map-1', 'map', { name: 'parse', parallelism: 3 })],
      [edge('src-0', 'map-1', 'forward', { explicit: true })],
    );
    const e = planError(g);
    expect(e.code).toBe('PLAN_FORWARD_PARALLELISM');
    expect(e.operatorId).toBe('map-1');
    expect(e.message).toContain('"numbers" (src-0)');
    expect(e.message).toContain('"parse" (map-1)');
    expect(e.message).toContain('parallelism 2');
    expect(e.message).toContain('parallelism 3');
  });

  it('accepts an explicit forward between equal parallelisms', () => {
    const g = graph(
      [node('src-0', 'source', { parallelism: 3 }), node('map-1', 'map', { parallelism: 3 })],
      [edge('src-0', 'map-1', 'forward', { explicit: true })],
    );
    expect(createPlan(g).edges[0].partition).toBe('forward');
  });

  it('rejects a keyed operator with more tasks than job.max-parallelism (PLAN_MAX_PARALLELISM)', () => {
    const e = planError(wordCount({ reduceP: 8, config: { 'job.max-parallelism': 4 } }));
    expect(e.code).toBe('PLAN_MAX_PARALLELISM');
    expect(e.operatorId).toBe('reduce-3');
    expect(e.message).toContain('"count" (reduce-3)');
    expect(e.message).toContain('8');
    expect(e.message).toContain('job.max-parallelism 4');
  });

  it('applies max parallelism to inherited parallelism too, and accepts p == max', () => {
    expect(planError(wordCount({ config: { 'job.max-parallelism': 2, 'parallelism.default': 3 } })).code).toBe('PLAN_MAX_PARALLELISM');
    expect(() => createPlan(wordCount({ reduceP: 4, config: { 'job.max-parallelism': 4 } }))).not.toThrow();
  });
});

describe('validateGraph', () => {
  it('returns the nodes in a deterministic topological order', () => {
    const g = graph(
      [node('sink-3', 'sink'), node('map-2', 'map'), node('b-1', 'source'), node('a-0', 'source'), node('u-4', 'union')],
      [edge('a-0', 'u-4'), edge('b-1', 'u-4'), edge('u-4', 'map-2'), edge('map-2', 'sink-3')],
    );
    const order = validateGraph(g).map((n) => n.id);
    expect(order).toEqual(['b-1', 'a-0', 'u-4', 'map-2', 'sink-3']);
    for (const e of g.edges) expect(order.indexOf(e.source)).toBeLessThan(order.indexOf(e.target));
  });
});
