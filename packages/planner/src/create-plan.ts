import {
  CoreOptions,
  PlanError,
  getConfig,
  defaultConfig,
  keyGroupRangeFor,
  type ConfigValue,
  type ExecutionPlan,
  type LogicalEdge,
  type LogicalGraph,
  type LogicalNode,
  type PartitionKind,
  type PlanChannel,
  type PlanEdge,
  type PlanOperator,
  type PlanTask,
  type PlanVertex,
} from '@mobius/interface';
import { graphHash } from './graph-hash.js';
import { slotSharingGroups } from './slot-sharing-groups.js';
import { describeNode, validateGraph } from './validate-graph.js';

/** `${source}->${target}` (`${source}[${tag}]->${target}` for a side output): the id of a logical edge and of its plan edge. */
export function edgeId(edge: Pick<LogicalEdge, 'source' | 'target' | 'sideOutput'>): string {
  return edge.sideOutput === undefined ? `${edge.source}->${edge.target}` : `${edge.source}[${edge.sideOutput}]->${edge.target}`;
}

function resolvePartition(edge: LogicalEdge, sourceP: number, targetP: number, target: LogicalNode, source: LogicalNode): PartitionKind {
  const kind = edge.partition.kind;
  if (kind !== 'forward') return kind;
  if (sourceP === targetP) return 'forward';
  if (edge.partition.explicit) {
    throw new PlanError(
      'PLAN_FORWARD_PARALLELISM',
      `forward() from ${describeNode(source)} (parallelism ${sourceP}) to ${describeNode(target)} (parallelism ${targetP}) needs equal parallelism`,
      target.id,
    );
  }
  // Like Flink: a defaulted edge between different parallelisms spreads records round-robin.
  return 'rebalance';
}

/** How to plan beyond the graph itself. */
export interface PlanOptions {
  /**
   * Operator id → parallelism, in place of what the graph says or implies (a live rescale sets
   * every operator of the rescaled vertex; see `rescalePlan`). The graph hash stays the graph's.
   */
  readonly parallelism?: Readonly<Record<string, number>>;
  /**
   * A plan of the same graph whose partitioning and chaining this one keeps (a live rescale: the
   * running job's vertices and edges stay what they are). An edge it planned `forward` whose two
   * sides no longer have one parallelism becomes `rebalance`, and is no longer chained.
   */
  readonly like?: ExecutionPlan;
}

/**
 * Plans a logical graph: validation, parallelism, partitioning, chaining, tasks with key
 * groups, and channels. Pure: the same graph (and options) gives the same plan in every process.
 */
export function createPlan(graph: LogicalGraph, jobName = 'job', options: PlanOptions = {}): ExecutionPlan {
  const order = validateGraph(graph);
  const config: Record<string, ConfigValue> = { ...defaultConfig(), ...graph.config };
  const maxParallelism = getConfig(config, CoreOptions.MAX_PARALLELISM);
  const defaultParallelism = getConfig(config, CoreOptions.PARALLELISM_DEFAULT);

  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inputsOf = new Map<string, LogicalEdge[]>(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) inputsOf.get(e.target)!.push(e);

  // Parallelism: explicit, else the source default, else the first input's (Ray's rule).
  const parallelism = new Map<string, number>();
  for (const node of order) {
    const ins = inputsOf.get(node.id)!;
    const p = options.parallelism?.[node.id] ?? node.parallelism ?? (node.kind === 'source' ? defaultParallelism : parallelism.get(ins[0].source)!);
    parallelism.set(node.id, p);
  }

  const keyed = new Set<string>();
  for (const node of order) {
    if (inputsOf.get(node.id)!.some((e) => e.partition.kind === 'key')) {
      keyed.add(node.id);
      if (parallelism.get(node.id)! > maxParallelism) {
        throw new PlanError(
          'PLAN_MAX_PARALLELISM',
          `${describeNode(node)}: parallelism ${parallelism.get(node.id)} exceeds job.max-parallelism ${maxParallelism}`,
          node.id,
        );
      }
    }
  }

  const groups = slotSharingGroups(order, inputsOf);

  // Chaining (docs/design.md): forward, equal parallelism, a single input, same language, same
  // slot-sharing group (as Flink), both allow it.
  const partitions = new Map<string, PartitionKind>();
  const likeEdges = options.like === undefined ? undefined : new Map(options.like.edges.map((e) => [e.id, e]));
  const chainedInto = new Map<string, string>(); // target → source of its chained input
  for (const edge of graph.edges) {
    const source = byId.get(edge.source)!;
    const target = byId.get(edge.target)!;
    const kept = likeEdges?.get(edgeId(edge));
    const same = parallelism.get(source.id) === parallelism.get(target.id);
    const kind = kept === undefined ? resolvePartition(edge, parallelism.get(source.id)!, parallelism.get(target.id)!, target, source) : kept.partition === 'forward' && !same ? 'rebalance' : kept.partition;
    partitions.set(edgeId(edge), kind);
    const chain = kept !== undefined ? kept.chained && kind === 'forward' :
      kind === 'forward' &&
      inputsOf.get(target.id)!.length === 1 &&
      source.language === target.language &&
      source.chaining &&
      target.chaining &&
      target.kind !== 'source' &&
      groups.get(source.id) === groups.get(target.id);
    if (chain) chainedInto.set(target.id, source.id);
  }

  const headOf = (id: string): string => {
    let cur = id;
    for (let up = chainedInto.get(cur); up !== undefined; up = chainedInto.get(cur)) cur = up;
    return cur;
  };
  const vertexOf = new Map<string, string>();
  const members = new Map<string, string[]>();
  for (const node of order) {
    const head = headOf(node.id);
    vertexOf.set(node.id, head);
    if (!members.has(head)) members.set(head, []);
    members.get(head)!.push(node.id);
  }

  const vertices: PlanVertex[] = [...members.entries()].map(([head, ops]) => ({
    id: head,
    name: ops.map((id) => byId.get(id)!.name).join(' -> '),
    operatorIds: ops,
    parallelism: parallelism.get(head)!,
    slotSharingGroup: groups.get(head)!,
  }));

  const operators: PlanOperator[] = order.map((n) => ({
    id: n.id,
    name: n.name,
    kind: n.kind,
    parallelism: parallelism.get(n.id)!,
    vertexId: vertexOf.get(n.id)!,
    config: n.config,
    keyed: keyed.has(n.id),
  }));

  const edges: PlanEdge[] = graph.edges.map((e) => ({
    id: edgeId(e),
    sourceOperator: e.source,
    targetOperator: e.target,
    sourceVertex: vertexOf.get(e.source)!,
    targetVertex: vertexOf.get(e.target)!,
    partition: partitions.get(edgeId(e))!,
    chained: chainedInto.get(e.target) === e.source,
    inputIndex: inputsOf.get(e.target)!.indexOf(e),
    ...(e.sideOutput !== undefined ? { sideOutput: e.sideOutput } : {}),
  }));

  const tasks: PlanTask[] = [];
  for (const v of vertices) {
    for (let i = 0; i < v.parallelism; i++) {
      tasks.push({ id: `${v.id}#${i}`, vertexId: v.id, index: i, keyGroups: keyGroupRangeFor(i, v.parallelism, maxParallelism) });
    }
  }

  const channels: PlanChannel[] = [];
  for (const e of edges) {
    if (e.chained) continue;
    const sp = parallelism.get(e.sourceOperator)!;
    const tp = parallelism.get(e.targetOperator)!;
    for (let i = 0; i < sp; i++) {
      for (let j = 0; j < tp; j++) {
        if (e.partition === 'forward' && i !== j) continue;
        channels.push({ id: `${e.id}:${i}->${j}`, edgeId: e.id, sourceTask: `${e.sourceVertex}#${i}`, targetTask: `${e.targetVertex}#${j}` });
      }
    }
  }

  return { jobName, graphHash: graphHash(graph), maxParallelism, config, operators, vertices, edges, tasks, channels };
}
