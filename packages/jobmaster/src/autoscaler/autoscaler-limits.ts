import { DEFAULT_SLOT_SHARING_GROUP } from '@mobius/interface';
import type { VertexLoad } from './vertex-load.js';

/** Which limit held a parallelism below what DS2 wanted. */
export type AutoscalerLimit = 'autoscaler.max-parallelism' | 'max-parallelism' | 'free-slots';

/** One parallelism change of a decision. */
export interface AutoscalerDecision {
  readonly vertex: string;
  readonly from: number;
  readonly to: number;
  /** What DS2 wanted before the limits. */
  readonly wanted: number;
  /** Set when a limit made `to` lower than `wanted`. */
  readonly limitedBy?: AutoscalerLimit;
}

/** The wanted parallelism within `autoscaler.max-parallelism` and the vertex's own max; the lower limit is the one named. */
export function capParallelism(wanted: number, vertex: VertexLoad, autoscalerMax: number): { to: number; limitedBy?: AutoscalerLimit } {
  const limit = Math.min(autoscalerMax, vertex.maxParallelism);
  if (wanted <= limit) return { to: wanted };
  return { to: limit, limitedBy: autoscalerMax <= vertex.maxParallelism ? 'autoscaler.max-parallelism' : 'max-parallelism' };
}

/** Words for a limit in a reason, with its number. */
export function describeLimit(limit: AutoscalerLimit, vertex: VertexLoad, autoscalerMax: number): string {
  if (limit === 'autoscaler.max-parallelism') return `autoscaler.max-parallelism ${autoscalerMax}`;
  if (limit === 'max-parallelism') return `the vertex's max parallelism ${vertex.maxParallelism}`;
  return 'the free slots';
}

/**
 * Holds raises to what the free slots allow. A slot-sharing group takes as many slots as its
 * largest parallelism, so a raise costs slots only where it lifts that maximum; lowerings of the
 * same decision are applied first (the job master applies them in the order given) and the slots
 * they free serve the raises, group by group in order of first appearance.
 */
export function fitFreeSlots(
  vertices: readonly VertexLoad[],
  decisions: readonly AutoscalerDecision[],
  freeSlots: number | undefined,
): { decisions: AutoscalerDecision[]; notes: string[] } {
  const lowerings = decisions.filter((d) => d.to < d.from);
  const raises = decisions.filter((d) => d.to > d.from);
  if (freeSlots === undefined || raises.length === 0) return { decisions: [...lowerings, ...raises], notes: [] };
  const lowered = new Map(lowerings.map((d) => [d.vertex, d.to]));
  const groupOf = (v: VertexLoad): string => v.slotSharingGroup ?? DEFAULT_SLOT_SHARING_GROUP;
  const before = new Map<string, number>();
  const afterLowering = new Map<string, number>();
  for (const v of vertices) {
    const g = groupOf(v);
    before.set(g, Math.max(before.get(g) ?? 0, v.parallelism));
    afterLowering.set(g, Math.max(afterLowering.get(g) ?? 0, lowered.get(v.vertexId) ?? v.parallelism));
  }
  let budget = Math.max(0, freeSlots);
  for (const [g, n] of before) budget += n - afterLowering.get(g)!;

  const groupOfVertex = new Map(vertices.map((v) => [v.vertexId, groupOf(v)]));
  const fitted = new Map<string, AutoscalerDecision>();
  const notes: string[] = [];
  for (const g of before.keys()) {
    const mine = raises.filter((d) => groupOfVertex.get(d.vertex) === g);
    if (mine.length === 0) continue;
    const base = afterLowering.get(g)!;
    const wantedDemand = Math.max(base, ...mine.map((d) => d.to));
    const allowed = base + budget;
    for (const d of mine) {
      if (d.to <= allowed) fitted.set(d.vertex, d);
      else {
        notes.push(`"${d.vertex}" held at ${allowed} of ${d.to} by the free slots (${wantedDemand - base} more needed in slot-sharing group "${g}", ${budget} free)`);
        if (allowed > d.from) fitted.set(d.vertex, { ...d, to: allowed, limitedBy: 'free-slots' });
      }
    }
    budget -= Math.max(0, Math.min(wantedDemand, allowed) - base);
  }
  return { decisions: [...lowerings, ...raises.filter((d) => fitted.has(d.vertex)).map((d) => fitted.get(d.vertex)!)], notes };
}
