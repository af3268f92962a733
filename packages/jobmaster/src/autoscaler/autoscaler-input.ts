import type { ExecutionPlan, TaskMetrics } from '@mobius/interface';
import type { AutoscalerInput, TaskLoad, VertexLoad } from './vertex-load.js';

/**
 * The policy's input for a running job: one `VertexLoad` per vertex of `plan`, with the figures
 * of `metrics` whose task is in the plan (a retired task of an earlier parallelism, or a task
 * the plan does not know, counts for nothing), upstream vertices from the plan's channelled
 * edges, and every vertex bounded by the job's key groups (`job.max-parallelism`, as a rescale
 * is). A vertex holding a source is marked not rescalable: live rescaling refuses sources.
 * Sources report no backlog (no `backlogGrowthPerSecond`): a backpressured source shows what it
 * managed to emit, and the policy climbs to the demand in steps.
 */
export function autoscalerInput(plan: ExecutionPlan, metrics: readonly TaskMetrics[], freeSlots?: number): AutoscalerInput {
  const vertexOf = new Map(plan.tasks.map((t) => [t.id, t.vertexId]));
  const tasks = new Map<string, TaskLoad[]>(plan.vertices.map((v) => [v.id, []]));
  for (const m of metrics) {
    const vertex = vertexOf.get(m.taskId);
    if (vertex !== undefined) tasks.get(vertex)!.push(m);
  }
  const upstream = new Map<string, Set<string>>(plan.vertices.map((v) => [v.id, new Set()]));
  for (const e of plan.edges) if (!e.chained && e.sourceVertex !== e.targetVertex) upstream.get(e.targetVertex)?.add(e.sourceVertex);
  const sources = new Set(plan.operators.filter((o) => o.kind === 'source').map((o) => o.vertexId));

  const vertices: VertexLoad[] = plan.vertices.map((v) => {
    const source = sources.has(v.id);
    return {
      vertexId: v.id,
      parallelism: v.parallelism,
      maxParallelism: plan.maxParallelism,
      tasks: tasks.get(v.id)!,
      upstream: [...upstream.get(v.id)!],
      source,
      ...(source ? { rescalable: false } : {}),
      ...(v.slotSharingGroup !== undefined ? { slotSharingGroup: v.slotSharingGroup } : {}),
    };
  });
  return freeSlots === undefined ? { vertices } : { vertices, freeSlots };
}
