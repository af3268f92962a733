import type { PartitionSpec } from '@mobius/interface';
import type { StreamUpstream } from './data-stream.js';
import type { NodeBuilder } from './graph-builder.js';

/** A record of a two-input operator: `[0, a]` from the first input, `[1, b]` from the second. */
export type Tagged = readonly [0 | 1, unknown];

const FORWARD: PartitionSpec = { kind: 'forward', explicit: false };

/** The tag maps of the first and second input (also the window join's, which unites its inputs itself). */
export const tagFirst = (v: unknown): Tagged => [0, v];
export const tagSecond = (v: unknown): Tagged => [1, v];

/**
 * Adds the chained map that tags the records of `input` (0 or 1) for a two-input operator (map
 * keeps each record's timestamp). Both inputs then reach the one operator, whose input gate
 * takes the minimum of their watermarks, as Flink's joins do on its DataStream API.
 */
export function tagInput(input: StreamUpstream, which: 0 | 1): NodeBuilder {
  const node = input.graph.addNode('map', which === 0 ? 'tag first input' : 'tag second input', which === 0 ? tagFirst : tagSecond);
  input.graph.addEdge(input.node, node, FORWARD, input.sideOutput);
  return node;
}

/** The partitioning of a stream, moved behind its tag map (a custom partitioner sees the untagged record). */
export function taggedPartition(partition: PartitionSpec): PartitionSpec {
  if (partition.kind !== 'custom') return partition;
  const p = partition.partitioner as ((r: unknown, n: number) => number | readonly number[]) | { partition(r: unknown, n: number): number | readonly number[] };
  const fn = typeof p === 'function' ? p : p.partition.bind(p);
  return { ...partition, partitioner: (r: Tagged, n: number) => fn(r[1], n) };
}

/** One key selector for both tagged inputs: each side's own selector on its untagged record. */
export function taggedKey(first: (v: never) => unknown, second: (v: never) => unknown): (r: Tagged) => unknown {
  const a = first as (v: unknown) => unknown;
  const b = second as (v: unknown) => unknown;
  return (r) => (r[0] === 0 ? a(r[1]) : b(r[1]));
}

/**
 * Wires two inputs into a new operator of `kind`: each through its tag map, then over `edge(i)`
 * (the partitioning of input i into the operator). Returns the operator's node.
 */
export function connectTagged(first: StreamUpstream, second: StreamUpstream, kind: string, name: string, fn: unknown, edge: (which: 0 | 1) => PartitionSpec): NodeBuilder {
  const a = tagInput(first, 0);
  const b = tagInput(second, 1);
  const node = first.graph.addNode(kind, name, fn);
  first.graph.addEdge(a, node, edge(0));
  first.graph.addEdge(b, node, edge(1));
  return node;
}
