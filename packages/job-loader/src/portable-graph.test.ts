import { describe, expect, it } from 'vitest';
import type { LogicalGraph, LogicalNode, PartitionSpec } from '@mobius/interface';
import { fromPortableJob, toPortableJob } from './portable-graph.js';

const node = (id: string, kind: LogicalNode['kind'], extra: Partial<LogicalNode> = {}): LogicalNode => ({
  id, uid: undefined, name: id, kind, parallelism: undefined, config: {}, chaining: true, language: 'typescript', fn: () => undefined, ...extra,
});

function graphWith(partition: PartitionSpec): LogicalGraph {
  return {
    config: { 'parallelism.default': 2 },
    nodes: [node('s', 'source', { data: [1, 2, 3], source: { type: 'collection', size: 3 } }), node('m', 'map')],
    edges: [{ source: 's', target: 'm', partition }],
  };
}

const roundTrip = (g: LogicalGraph): LogicalGraph => fromPortableJob(structuredClone(toPortableJob({ name: 'j', graph: g }))).graph;

describe('portable graphs', () => {
  it('keeps structure, config and the number of source records, and leaves user functions behind', () => {
    const back = roundTrip(graphWith({ kind: 'forward', explicit: false }));
    expect(back.config).toEqual({ 'parallelism.default': 2 });
    expect(back.nodes.map((n) => [n.id, n.kind, n.source, n.data?.length])).toEqual([
      ['s', 'source', { type: 'collection', size: 3 }, 3],
      ['m', 'map', undefined, undefined],
    ]);
    expect(back.nodes[0].data![0]).toBeUndefined();
    expect(() => (back.nodes[1].fn as () => void)()).toThrow(/does not run in the coordinator/);
  });

  it('a key selector or partitioner comes back as a function exactly where the job gave a valid one', () => {
    expect(typeof roundTrip(graphWith({ kind: 'key', explicit: true, keySelector: (r: never) => r })).edges[0].partition.keySelector).toBe('function');
    expect(roundTrip(graphWith({ kind: 'key', explicit: true })).edges[0].partition.keySelector).toBeUndefined();
    expect(typeof roundTrip(graphWith({ kind: 'custom', explicit: true, partitioner: { partition: () => 0 } })).edges[0].partition.partitioner).toBe('function');
    expect(typeof roundTrip(graphWith({ kind: 'custom', explicit: true, partitioner: 42 })).edges[0].partition.partitioner).not.toBe('function');
  });
});
