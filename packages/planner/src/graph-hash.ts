import { murmur3, type LogicalGraph } from '@mobius/interface';

function sortedEntries(map: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(map)
    .sort()
    .map((k) => [k, map[k]]);
}

/** The canonical text of a graph's structure: what must match between processes. */
export function canonicalGraph(graph: LogicalGraph): string {
  return JSON.stringify({
    config: sortedEntries(graph.config),
    nodes: graph.nodes.map((n) => [
      n.id,
      n.name,
      n.kind,
      n.parallelism ?? null,
      sortedEntries(n.config),
      n.chaining,
      n.language,
      n.source ?? null,
      n.data?.length ?? null,
      // Only when set, so graphs without groups keep the hashes they had.
      ...(n.slotSharingGroup !== undefined ? [n.slotSharingGroup] : []),
    ]),
    edges: graph.edges.map((e) => [e.source, e.target, e.partition.kind, e.partition.explicit]),
  });
}

/**
 * A 64-bit hash (hex) of the graph's structure, names, parallelism and config. Functions are
 * not part of it: a worker rebuilding the graph from the same job module gets the same hash.
 */
export function graphHash(graph: LogicalGraph): string {
  const text = canonicalGraph(graph);
  const a = murmur3(text, 0x9747b28c).toString(16).padStart(8, '0');
  const b = murmur3(text, 0x1b873593).toString(16).padStart(8, '0');
  return a + b;
}
