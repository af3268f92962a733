/**
 * Test helpers: builds LogicalGraph objects by hand, the way `@mobius/api` would.
 * Used by the *.test.ts files only; not exported from the package.
 */
import type { ConfigMap, LogicalEdge, LogicalGraph, LogicalNode, OperatorKind, PartitionKind } from '@mobius/interface';

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

/**
 * The word count of DESIGN.md: source → flatMap → map → keyBy → reduce → filter → sink.
 * `sourceP` and `reduceP` set those operators' parallelism (undefined inherits).
 */
export function wordCount(options: { sourceP?: number; reduceP?: number; config?: ConfigMap } = {}): LogicalGraph {
  return graph(
    [
      node('source-0', 'source', { name: 'readTextFile', parallelism: options.sourceP, source: { type: 'textFile', path: 'input.txt' }, data: undefined }),
      node('flatMap-1', 'flatMap', { name: 'split' }),
      node('map-2', 'map', { name: 'pair' }),
      node('reduce-3', 'reduce', { name: 'count', parallelism: options.reduceP }),
      node('filter-4', 'filter', { name: 'no ray' }),
      node('sink-5', 'sink', { name: 'print' }),
    ],
    [
      edge('source-0', 'flatMap-1'),
      edge('flatMap-1', 'map-2'),
      edge('map-2', 'reduce-3', 'key', { keySelector: (p: readonly [string, number]) => p[0] }),
      edge('reduce-3', 'filter-4'),
      edge('filter-4', 'sink-5'),
    ],
    options.config ?? {},
  );
}
