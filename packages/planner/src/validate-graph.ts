import { PlanError, validateConfig, type LogicalEdge, type LogicalGraph, type LogicalNode } from '@mobius/interface';

/** Operator kinds whose every input must be key-partitioned. */
export const KEYED_KINDS: ReadonlySet<string> = new Set(['reduce']);

export function describeNode(node: LogicalNode): string {
  return `operator "${node.name}" (${node.id})`;
}

/**
 * Checks a logical graph and returns its nodes in topological order. Every rule has its own
 * error code and a message naming the operator.
 */
export function validateGraph(graph: LogicalGraph): LogicalNode[] {
  if (graph.nodes.length === 0) throw new PlanError('PLAN_EMPTY', 'the job has no operators: add a source and a sink');
  validateConfig(graph.config, 'job', 'job options');

  const byId = new Map<string, LogicalNode>();
  for (const node of graph.nodes) {
    if (byId.has(node.id)) {
      throw new PlanError('PLAN_DUPLICATE_UID', `two operators have the id '${node.id}': uid() must be unique within a job`, node.id);
    }
    byId.set(node.id, node);
  }

  const inputs = new Map<string, LogicalEdge[]>();
  const outputs = new Map<string, LogicalEdge[]>();
  for (const node of graph.nodes) {
    inputs.set(node.id, []);
    outputs.set(node.id, []);
  }
  const seenEdges = new Set<string>();
  for (const edge of graph.edges) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    if (source === undefined || target === undefined) {
      const missing = source === undefined ? edge.source : edge.target;
      throw new PlanError('PLAN_UNKNOWN_OPERATOR', `an edge refers to the unknown operator '${missing}'`, missing);
    }
    const id = edge.sideOutput === undefined ? `${edge.source}->${edge.target}` : `${edge.source}[${edge.sideOutput}]->${edge.target}`;
    if (seenEdges.has(id)) {
      throw new PlanError(
        'PLAN_SELF_UNION',
        `union of a stream with itself: ${describeNode(target)} receives the stream of ${describeNode(source)} more than once; use broadcast() or flatMap() to duplicate records`,
        target.id,
      );
    }
    seenEdges.add(id);
    inputs.get(edge.target)!.push(edge);
    outputs.get(edge.source)!.push(edge);
  }

  for (const node of graph.nodes) {
    if (node.parallelism !== undefined && (!Number.isInteger(node.parallelism) || node.parallelism < 1)) {
      throw new PlanError(
        'PLAN_INVALID_PARALLELISM',
        `${describeNode(node)}: parallelism must be an integer of at least 1, got ${String(node.parallelism)}`,
        node.id,
      );
    }
    validateConfig(node.config, 'operator', describeNode(node));
    const ins = inputs.get(node.id)!;
    if (node.kind === 'source' && ins.length > 0) {
      throw new PlanError('PLAN_NO_INPUT', `${describeNode(node)} is a source and cannot have inputs`, node.id);
    }
    if (node.kind !== 'source' && ins.length === 0) {
      throw new PlanError('PLAN_NO_INPUT', `${describeNode(node)} has no input`, node.id);
    }
    if (KEYED_KINDS.has(node.kind)) {
      for (const edge of ins) {
        if (edge.partition.kind !== 'key') {
          throw new PlanError(
            'PLAN_NOT_KEYED',
            `${describeNode(node)} is a keyed operation but its input from ${describeNode(byId.get(edge.source)!)} is not keyed: call keyBy() before ${node.kind}()`,
            node.id,
          );
        }
      }
    }
    for (const edge of ins) {
      const p = edge.partition;
      if (p.kind === 'key' && typeof p.keySelector !== 'function') {
        throw new PlanError('PLAN_INVALID_FUNCTION', `the key selector into ${describeNode(node)} is not a function`, node.id);
      }
      if (p.kind === 'custom' && typeof p.partitioner !== 'function' && typeof (p.partitioner as { partition?: unknown } | undefined)?.partition !== 'function') {
        throw new PlanError('PLAN_INVALID_FUNCTION', `the partitioner into ${describeNode(node)} is neither a function nor an object with partition()`, node.id);
      }
    }
  }

  return topologicalOrder(graph.nodes, inputs, outputs, byId);
}

function topologicalOrder(
  nodes: readonly LogicalNode[],
  inputs: Map<string, LogicalEdge[]>,
  outputs: Map<string, LogicalEdge[]>,
  byId: Map<string, LogicalNode>,
): LogicalNode[] {
  const remaining = new Map<string, number>();
  for (const node of nodes) remaining.set(node.id, inputs.get(node.id)!.length);
  // Kahn's algorithm in declaration order, so the order (and so vertex ids) is deterministic.
  const ready = nodes.filter((n) => remaining.get(n.id) === 0);
  const order: LogicalNode[] = [];
  while (ready.length > 0) {
    const node = ready.shift()!;
    order.push(node);
    for (const edge of outputs.get(node.id)!) {
      const left = remaining.get(edge.target)! - 1;
      remaining.set(edge.target, left);
      if (left === 0) ready.push(byId.get(edge.target)!);
    }
  }
  if (order.length !== nodes.length) {
    const cyclic = nodes.filter((n) => remaining.get(n.id)! > 0).map((n) => `"${n.name}" (${n.id})`);
    throw new PlanError('PLAN_CYCLE', `the job graph has a cycle through ${cyclic.join(', ')}`, nodes.find((n) => remaining.get(n.id)! > 0)?.id);
  }
  return order;
}
