/**
 * Test helpers (not exported from the package): LogicalGraph objects built by hand, the way
 * `@mobius/api` would. Adapted from packages/planner/src/test-graph.ts.
 */
import type { ConfigMap, LogicalEdge, LogicalGraph, LogicalNode, OperatorKind, PartitionKind, SourceFunction } from '@mobius/interface';

export type NodeOptions = Partial<Omit<LogicalNode, 'id' | 'kind'>>;

/** A node with the defaults of the api: chaining on, TypeScript, identity function. */
export function node(id: string, kind: OperatorKind, options: NodeOptions = {}): LogicalNode {
  return {
    id,
    uid: undefined,
    name: id,
    kind,
    parallelism: undefined,
    config: {},
    chaining: true,
    language: 'typescript',
    fn: (x: unknown) => x,
    ...(kind === 'source' ? { source: { type: 'collection', size: 3 } as const, data: [1, 2, 3] } : {}),
    ...options,
  };
}

/** A fromCollection source. */
export function collection(id: string, data: readonly unknown[], options: NodeOptions = {}): LogicalNode {
  return node(id, 'source', { source: { type: 'collection', size: data.length }, data, ...options });
}

/** A source(fn) source. */
export function userSource(id: string, fn: SourceFunction<unknown>, options: NodeOptions = {}): LogicalNode {
  return node(id, 'source', { source: { type: 'function' }, data: undefined, fn, ...options });
}

export interface EdgeOptions {
  readonly explicit?: boolean;
  readonly keySelector?: (record: never) => unknown;
  readonly partitioner?: unknown;
}

/** An edge; `key` edges get a key selector unless one is given. */
export function edge(source: string, target: string, kind: PartitionKind = 'forward', options: EdgeOptions = {}): LogicalEdge {
  const keySelector = options.keySelector ?? (kind === 'key' ? (r: unknown) => r : undefined);
  const partitioner = options.partitioner ?? (kind === 'custom' ? (_r: unknown, n: number) => n - 1 : undefined);
  return {
    source,
    target,
    partition: {
      kind,
      explicit: options.explicit ?? false,
      ...(keySelector !== undefined ? { keySelector } : {}),
      ...(partitioner !== undefined ? { partitioner } : {}),
    },
  };
}

export function graph(nodes: readonly LogicalNode[], edges: readonly LogicalEdge[], config: ConfigMap = {}): LogicalGraph {
  return { config, nodes, edges };
}

/** A straight pipeline: each node feeds the next over a forward edge. */
export function pipeline(nodes: readonly LogicalNode[], config: ConfigMap = {}): LogicalGraph {
  return graph(
    nodes,
    nodes.slice(1).map((n, i) => edge(nodes[i].id, n.id)),
    config,
  );
}
