import { PlanError, type TaskLoadField, type TaskMetrics } from '@mobius/interface';

/**
 * The load figures of one task over the last measurement window, as `TaskMetrics` carries them
 * (optional there too), so that a task's metrics can be passed as they are: a task that has not
 * reported yet simply counts for nothing.
 */
export type TaskLoad = Pick<TaskMetrics, TaskLoadField>;

/** One vertex of the plan (a chain of operators) as the autoscaler sees it. */
export interface VertexLoad {
  readonly vertexId: string;
  readonly parallelism: number;
  /** The most tasks the vertex may have (the job's key groups for a keyed vertex). */
  readonly maxParallelism: number;
  readonly tasks: readonly TaskLoad[];
  /** Vertex ids whose output this vertex reads. */
  readonly upstream: readonly string[];
  readonly source: boolean;
  /**
   * Sources only: records per second by which the source's backlog (records it should have read
   * and has not: a lag, a paced generator behind its schedule) grows, negative while it drains.
   * Without it a source that is held back by backpressure reports only what it managed to emit.
   */
  readonly backlogGrowthPerSecond?: number;
  /** Slot-sharing group (`default` when absent): its vertices' tasks share slots. */
  readonly slotSharingGroup?: string;
  /** False for a vertex that cannot be rescaled (a source whose offsets cannot be split). */
  readonly rescalable?: boolean;
}

/** What the job master hands the policy at each evaluation. */
export interface AutoscalerInput {
  readonly vertices: readonly VertexLoad[];
  /** Slots free in the cluster now; absent: no limit. */
  readonly freeSlots?: number;
}

/**
 * The vertices in topological order (sources first), so rates can be propagated in one pass.
 * A graph that cannot be one (an unknown upstream, a cycle, a source with an input, a
 * non-source without one, a bad parallelism) is a PlanError naming the vertex.
 */
export function orderVertices(vertices: readonly VertexLoad[]): VertexLoad[] {
  const byId = new Map<string, VertexLoad>();
  for (const v of vertices) {
    if (byId.has(v.vertexId)) throw new PlanError('PLAN_DUPLICATE_UID', `autoscaler input lists vertex "${v.vertexId}" twice`, v.vertexId);
    byId.set(v.vertexId, v);
  }
  for (const v of vertices) {
    if (!Number.isInteger(v.parallelism) || v.parallelism < 1) {
      throw new PlanError('PLAN_INVALID_PARALLELISM', `vertex "${v.vertexId}": parallelism must be an integer of at least 1 (got ${v.parallelism})`, v.vertexId);
    }
    if (!Number.isInteger(v.maxParallelism) || v.maxParallelism < 1) {
      throw new PlanError('PLAN_MAX_PARALLELISM', `vertex "${v.vertexId}": max parallelism must be an integer of at least 1 (got ${v.maxParallelism})`, v.vertexId);
    }
    if (v.source && v.upstream.length > 0) throw new PlanError('PLAN_CYCLE', `vertex "${v.vertexId}" is a source but reads from ${v.upstream.join(', ')}`, v.vertexId);
    if (!v.source && v.upstream.length === 0) throw new PlanError('PLAN_NO_INPUT', `vertex "${v.vertexId}" is not a source and has no upstream vertex`, v.vertexId);
    for (const u of v.upstream) {
      if (!byId.has(u)) throw new PlanError('PLAN_UNKNOWN_OPERATOR', `vertex "${v.vertexId}" reads from unknown vertex "${u}"`, v.vertexId);
    }
  }
  const ordered: VertexLoad[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (v: VertexLoad): void => {
    const s = state.get(v.vertexId);
    if (s === 'done') return;
    if (s === 'visiting') throw new PlanError('PLAN_CYCLE', `vertex "${v.vertexId}" is part of a cycle`, v.vertexId);
    state.set(v.vertexId, 'visiting');
    for (const u of v.upstream) visit(byId.get(u)!);
    state.set(v.vertexId, 'done');
    ordered.push(v);
  };
  for (const v of vertices) visit(v);
  return ordered;
}
