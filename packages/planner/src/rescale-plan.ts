import { PlanError, type ExecutionPlan, type LogicalGraph, type PlanChannel, type PlanEdge, type PlanTask, type PlanVertex } from '@mobius/interface';
import { createPlan } from './create-plan.js';

/** Vertex id → parallelism: the rescales a running job has had (the graph says the rest). */
export type ParallelismOverrides = Readonly<Record<string, number>>;

/** The plan of `graph` with the parallelism of each rescaled vertex applied to all its operators. */
export function planWithOverrides(graph: LogicalGraph, jobName: string, overrides: ParallelismOverrides): ExecutionPlan {
  return overridden(graph, jobName, overrides, createPlan(graph, jobName));
}

/** `base` (the submitted plan) with the overrides: its vertices and edges stay, only parallelisms change (`PlanOptions.like`). */
function overridden(graph: LogicalGraph, jobName: string, overrides: ParallelismOverrides, base: ExecutionPlan): ExecutionPlan {
  if (Object.keys(overrides).length === 0) return base;
  return createPlan(graph, jobName, { parallelism: expand(base.vertices, overrides), like: base });
}

/**
 * Every operator's parallelism: its vertex's override, else what the vertex has now. Pinning the
 * vertices that are not rescaled matters: an operator without a parallelism of its own takes its
 * input's, and a rescale redeploys the rescaled vertex only.
 */
function expand(vertices: readonly PlanVertex[], overrides: ParallelismOverrides): Record<string, number> {
  for (const vertexId of Object.keys(overrides)) {
    if (!vertices.some((x) => x.id === vertexId)) throw new PlanError('PLAN_UNKNOWN_OPERATOR', `no vertex "${vertexId}" to rescale`, vertexId);
  }
  const out: Record<string, number> = {};
  for (const v of vertices) for (const op of v.operatorIds) out[op] = overrides[v.id] ?? v.parallelism;
  return out;
}

/**
 * The vertex (chain) an operator belongs to, the operator named by its id, its uid or its name
 * (a name must be unique). An operator chained with others rescales with its chain.
 */
export function vertexOfOperator(graph: LogicalGraph, plan: ExecutionPlan, ref: string): PlanVertex {
  const byId = graph.nodes.find((n) => n.id === ref) ?? graph.nodes.find((n) => n.uid === ref);
  let node = byId;
  if (node === undefined) {
    const named = graph.nodes.filter((n) => n.name === ref);
    if (named.length > 1) {
      throw new PlanError('PLAN_UNKNOWN_OPERATOR', `operator name "${ref}" is not unique (${named.map((n) => n.id).join(', ')}): name it by id or uid`, ref);
    }
    node = named[0];
  }
  if (node === undefined) {
    const known = graph.nodes.map((n) => `${n.id} "${n.name}"`).join(', ');
    throw new PlanError('PLAN_UNKNOWN_OPERATOR', `no operator "${ref}" in the job (by id, uid or name); operators: ${known}`, ref);
  }
  return plan.vertices.find((v) => v.operatorIds.includes(node.id))!;
}

/** A rescaled plan and the overrides that give it. */
export interface RescaledPlan {
  readonly plan: ExecutionPlan;
  readonly overrides: ParallelismOverrides;
  readonly vertex: PlanVertex;
  readonly from: number;
}

/**
 * The plan after setting vertex `vertexId` of the job (already rescaled by `overrides`) to
 * `parallelism`. Errors: a parallelism that is not an integer ≥ 1, or above `job.max-parallelism`
 * (the message names both). The vertices and edges stay as they are (`PlanOptions.like`).
 */
export function rescalePlan(graph: LogicalGraph, jobName: string, overrides: ParallelismOverrides, vertexId: string, parallelism: number): RescaledPlan {
  const base = createPlan(graph, jobName);
  const current = overridden(graph, jobName, overrides, base);
  const vertex = current.vertices.find((v) => v.id === vertexId);
  if (vertex === undefined) throw new PlanError('PLAN_UNKNOWN_OPERATOR', `no vertex "${vertexId}" to rescale`, vertexId);
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new PlanError('PLAN_INVALID_PARALLELISM', `rescaling "${vertex.name}": parallelism must be an integer of at least 1, got ${String(parallelism)}`, vertexId);
  }
  if (parallelism > current.maxParallelism) {
    throw new PlanError('PLAN_MAX_PARALLELISM', `rescaling "${vertex.name}": parallelism ${parallelism} exceeds job.max-parallelism ${current.maxParallelism}`, vertexId);
  }
  const next = { ...overrides, [vertexId]: parallelism };
  return { plan: overridden(graph, jobName, next, base), overrides: next, vertex, from: vertex.parallelism };
}

/** What one task outside the rescaled vertex changes at the rescale barrier. */
export interface TaskChannelChanges {
  readonly addInputs: PlanChannel[];
  readonly removeInputs: string[];
  readonly addOutputs: PlanChannel[];
  readonly removeOutputs: string[];
}

/** The difference between a plan and its rescale of one vertex. */
export interface RescaleDiff {
  /** The vertex's tasks before (they snapshot at the barrier and stop). */
  readonly oldTasks: readonly PlanTask[];
  /** The vertex's tasks after (each restores the key groups it owns from the old tasks' snapshots). */
  readonly newTasks: readonly PlanTask[];
  /** Task id (outside the vertex) → its channel changes: every channel to or from the vertex is replaced. */
  readonly changes: ReadonlyMap<string, TaskChannelChanges>;
  /** Edges next to the vertex whose partitioning changed (a defaulted forward edge becomes rebalance, or back). */
  readonly changedEdges: readonly PlanEdge[];
}

/** The tasks and channels that change when `vertexId` goes from `before` to `after`. */
export function rescaleDiff(before: ExecutionPlan, after: ExecutionPlan, vertexId: string): RescaleDiff {
  const inVertex = (taskId: string): boolean => taskId.slice(0, taskId.lastIndexOf('#')) === vertexId;
  const changes = new Map<string, TaskChannelChanges>();
  const of = (taskId: string): TaskChannelChanges => {
    let c = changes.get(taskId);
    if (c === undefined) changes.set(taskId, (c = { addInputs: [], removeInputs: [], addOutputs: [], removeOutputs: [] }));
    return c;
  };
  for (const ch of before.channels) {
    if (inVertex(ch.targetTask) && !inVertex(ch.sourceTask)) of(ch.sourceTask).removeOutputs.push(ch.id);
    if (inVertex(ch.sourceTask) && !inVertex(ch.targetTask)) of(ch.targetTask).removeInputs.push(ch.id);
  }
  for (const ch of after.channels) {
    if (inVertex(ch.targetTask) && !inVertex(ch.sourceTask)) of(ch.sourceTask).addOutputs.push(ch);
    if (inVertex(ch.sourceTask) && !inVertex(ch.targetTask)) of(ch.targetTask).addInputs.push(ch);
  }
  const changedEdges = after.edges.filter((e) => {
    const old = before.edges.find((x) => x.id === e.id);
    return old !== undefined && old.partition !== e.partition;
  });
  return {
    oldTasks: before.tasks.filter((t) => t.vertexId === vertexId),
    newTasks: after.tasks.filter((t) => t.vertexId === vertexId),
    changes,
    changedEdges,
  };
}
