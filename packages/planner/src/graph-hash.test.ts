import { describe, it, expect } from 'vitest';
import type { LogicalEdge, LogicalGraph, LogicalNode } from '@mobius/interface';
import { canonicalGraph, graphHash } from './graph-hash.js';
import { createPlan } from './create-plan.js';
import { wordCount } from './test-graph.js';

const base = (): LogicalGraph => wordCount({ sourceP: 2, reduceP: 3, config: { 'runtime.batch.size': 64 } });

/** A copy of the base graph with node `id` changed. */
function withNode(id: string, change: Partial<LogicalNode>): LogicalGraph {
  const g = base();
  return { ...g, nodes: g.nodes.map((n) => (n.id === id ? { ...n, ...change } : n)) };
}

function withEdge(index: number, change: (e: LogicalEdge) => LogicalEdge): LogicalGraph {
  const g = base();
  return { ...g, edges: g.edges.map((e, i) => (i === index ? change(e) : e)) };
}

describe('graphHash', () => {
  it('is 16 hex digits', () => {
    expect(graphHash(base())).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is the same for two separately built equal graphs', () => {
    const a = base();
    const b = base();
    expect(a.nodes[1].fn).not.toBe(b.nodes[1].fn);
    expect(graphHash(a)).toBe(graphHash(b));
    expect(canonicalGraph(a)).toBe(canonicalGraph(b));
  });

  it('ignores functions, key selectors and the content of collection data', () => {
    const h = graphHash(base());
    expect(graphHash(withNode('map-2', { fn: (x: string) => [x, 2] }))).toBe(h);
    expect(graphHash(withNode('map-2', { fn: { map: (x: unknown) => x } }))).toBe(h);
    expect(graphHash(withEdge(2, (e) => ({ ...e, partition: { ...e.partition, keySelector: (p: string[]) => p[1] } })))).toBe(h);
    const collection = (data: unknown[]): LogicalGraph => withNode('source-0', { source: { type: 'collection', size: 3 }, data });
    expect(graphHash(collection([1, 2, 3]))).toBe(graphHash(collection(['x', 'y', 'z'])));
    expect(canonicalGraph(base())).not.toContain('=>');
  });

  it('ignores the order of config keys', () => {
    const a = { ...base(), config: { 'runtime.batch.size': 64, 'runtime.linger.ms': 2 } };
    const b = { ...base(), config: { 'runtime.linger.ms': 2, 'runtime.batch.size': 64 } };
    expect(graphHash(a)).toBe(graphHash(b));
    const c = withNode('map-2', { config: { 'runtime.batch.size': 1, 'runtime.linger.ms': 1 } });
    const d = withNode('map-2', { config: { 'runtime.linger.ms': 1, 'runtime.batch.size': 1 } });
    expect(graphHash(c)).toBe(graphHash(d));
  });

  it('changes with parallelism, names, config and structure', () => {
    const variants: Record<string, LogicalGraph> = {
      base: base(),
      parallelism: withNode('flatMap-1', { parallelism: 2 }),
      parallelismUnset: withNode('reduce-3', { parallelism: undefined }),
      name: withNode('map-2', { name: 'pair2' }),
      id: withNode('sink-5', { id: 'sink-6' }),
      kind: withNode('filter-4', { kind: 'map' }),
      operatorConfig: withNode('map-2', { config: { 'runtime.batch.size': 8 } }),
      jobConfig: { ...base(), config: { 'runtime.batch.size': 65 } },
      jobConfigKey: { ...base(), config: { 'runtime.batch.size': 64, 'runtime.linger.ms': 5 } },
      chaining: withNode('map-2', { chaining: false }),
      language: withNode('map-2', { language: 'python' }),
      source: withNode('source-0', { source: { type: 'textFile', path: 'other.txt' } }),
      dataLength: withNode('source-0', { source: { type: 'collection', size: 2 }, data: [1, 2] }),
      partition: withEdge(0, (e) => ({ ...e, partition: { kind: 'rebalance', explicit: true } })),
      explicit: withEdge(0, (e) => ({ ...e, partition: { ...e.partition, explicit: true } })),
      edgeOrder: { ...base(), edges: [...base().edges].reverse() },
    };
    const hashes = Object.entries(variants).map(([name, g]) => [name, graphHash(g)] as const);
    const byHash = new Map<string, string[]>();
    for (const [name, h] of hashes) byHash.set(h, [...(byHash.get(h) ?? []), name]);
    const collisions = [...byHash.values()].filter((names) => names.length > 1);
    expect(collisions).toEqual([]);
  });

  it('is what createPlan records', () => {
    const g = base();
    expect(createPlan(g).graphHash).toBe(graphHash(g));
  });
});
