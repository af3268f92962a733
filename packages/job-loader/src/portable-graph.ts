import type { LogicalGraph, LogicalNode } from '@mobius/interface';
import type { CapturedJob } from './load-job.js';

/** Stands for a user function in a graph sent out of the process that built it. */
const FUNCTION = '$mobius.function';

/**
 * A captured job stripped of user code, so it can cross from the planning child to the
 * coordinator (structured clone): operator functions and source data stay behind (workers import
 * the bundle and take them by operator id), other functions become markers, and the number of
 * source records is kept because the graph hash counts it.
 */
export interface PortableJob {
  readonly name: string;
  readonly graph: unknown;
}

function portable(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'function') return FUNCTION;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return null;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => portable(v, seen));
  if (value instanceof Map || value instanceof Set || value instanceof Date || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = portable(v, seen);
  return out;
}

/** True when `p` is what the planner accepts as a custom partitioner (checked where it lives). */
function isPartitioner(p: unknown): boolean {
  return typeof p === 'function' || typeof (p as { partition?: unknown } | undefined)?.partition === 'function';
}

export function toPortableJob(job: CapturedJob): PortableJob {
  const seen = new WeakSet<object>();
  const graph = job.graph;
  return {
    name: job.name,
    graph: {
      config: portable(graph.config, seen),
      nodes: graph.nodes.map((n) => {
        const { fn: _fn, data, ...rest } = n;
        return { ...(portable(rest, new WeakSet()) as object), dataLength: data?.length };
      }),
      edges: graph.edges.map((e) => {
        const { keySelector, partitioner, ...partition } = e.partition;
        return {
          ...(portable({ ...e, partition: undefined }, new WeakSet()) as object),
          partition: { ...(portable(partition, new WeakSet()) as object), keySelector: typeof keySelector === 'function', partitioner: partitioner === undefined ? undefined : isPartitioner(partitioner) },
        };
      }),
    },
  };
}

/** Where user code would run in a graph rebuilt from a portable one: never in this process. */
function elsewhere(): never {
  throw new Error('user code does not run in the coordinator: this function lives in the job bundle, which workers import');
}

function revive(value: unknown): unknown {
  if (value === FUNCTION) return elsewhere;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(revive);
  if (value instanceof Map || value instanceof Set || value instanceof Date || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = revive(v);
  return out;
}

interface PortableNode {
  readonly dataLength?: number;
  readonly [key: string]: unknown;
}

interface PortableEdge {
  readonly partition: { readonly keySelector: boolean; readonly partitioner?: boolean; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/**
 * The graph as the planner needs it: structure, names, parallelism and config as the job built
 * them; functions are stand-ins that throw, present exactly where the job gave valid ones, so the
 * planner's checks decide as they would on the real graph.
 */
export function fromPortableJob(job: PortableJob): CapturedJob {
  const g = job.graph as { config: unknown; nodes: PortableNode[]; edges: PortableEdge[] };
  const nodes = g.nodes.map((n) => {
    const { dataLength, ...rest } = n;
    const node = { ...(revive(rest) as object), fn: elsewhere } as Record<string, unknown>;
    if (dataLength !== undefined) node.data = new Array<unknown>(dataLength);
    return node as unknown as LogicalNode;
  });
  const edges = g.edges.map((e) => {
    const { keySelector, partitioner, ...partition } = e.partition;
    return {
      ...(revive(e) as object),
      partition: {
        ...(revive(partition) as object),
        keySelector: keySelector ? elsewhere : undefined,
        partitioner: partitioner === undefined ? undefined : partitioner ? elsewhere : null,
      },
    };
  });
  const graph = { config: revive(g.config), nodes, edges } as unknown as LogicalGraph;
  return { name: job.name, graph };
}
