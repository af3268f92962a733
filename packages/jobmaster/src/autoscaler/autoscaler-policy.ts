import { capParallelism, describeLimit, fitFreeSlots, type AutoscalerDecision } from './autoscaler-limits.js';
import type { AutoscalerEvent } from './autoscaler-event.js';
import { validateAutoscalerOptions, type AutoscalerOptions } from './autoscaler-options.js';
import { ds2Rates, type VertexRates } from './ds2-rates.js';
import { orderVertices, type AutoscalerInput, type VertexLoad } from './vertex-load.js';

/** A lowering wanted since `since`; `highest` is the highest parallelism wanted since then. */
interface PendingLowering {
  readonly since: number;
  highest: number;
}

const fmt = (x: number | null): string => (x === null ? '?' : x.toFixed(2));

/**
 * The autoscaler's decision side, pure apart from its clock: the job master calls `evaluate`
 * every `autoscaler.interval.ms` with the vertices' load figures, applies the decisions of a
 * taken event with `rescale(vertex, to)` in the order given, and records every event.
 *
 * Around DS2's one-pass parallelisms (see `ds2Rates`) it keeps the job steady: no decision for
 * `autoscaler.stabilization.ms` after a change; a vertex whose utilization at the target rate is
 * within target ± boundary is left alone; a lowering is taken only once it has been wanted at
 * every evaluation for `autoscaler.scale-down.delay.ms` (the highest value wanted meanwhile),
 * while a raise is taken at once. Because the parallelism wanted is a function of the figures
 * alone and lands inside the band, steady figures never make it go back and forth.
 */
export class AutoscalerPolicy {
  readonly options: AutoscalerOptions;
  private readonly clock: () => number;
  private lastChange: number;
  private readonly pending = new Map<string, PendingLowering>();

  constructor(options: AutoscalerOptions, clock: () => number = Date.now) {
    this.options = validateAutoscalerOptions(options);
    this.clock = clock;
    // The job's start is a change too: its first figures are not settled yet.
    this.lastChange = clock();
  }

  /**
   * The job's parallelism changed other than by this policy's decision (a user's rescale, a
   * recovery, the job's start): start the stabilization time again and forget lowerings wanted
   * from figures measured before it.
   */
  noteChange(): void {
    this.lastChange = this.clock();
    this.pending.clear();
  }

  evaluate(input: AutoscalerInput): AutoscalerEvent {
    const now = this.clock();
    const ordered = orderVertices(input.vertices);
    const rates = ds2Rates(ordered, this.options.targetUtilization);
    const ratesRecord = Object.fromEntries(rates);
    const event = (taken: boolean, reason: string, decisions: AutoscalerDecision[]): AutoscalerEvent => ({ kind: 'autoscaler', time: now, taken, reason, rates: ratesRecord, decisions });

    if (now - this.lastChange < this.options.stabilizationMs) {
      const left = this.options.stabilizationMs - (now - this.lastChange);
      return event(false, `stabilizing: ${left} ms left of autoscaler.stabilization.ms ${this.options.stabilizationMs} after the last change`, []);
    }

    const notes: string[] = [];
    const proposed: AutoscalerDecision[] = [];
    for (const v of ordered) {
      const r = rates.get(v.vertexId)!;
      const change = this.vertexChange(v, r, now, notes);
      if (change !== undefined) proposed.push(change);
    }
    const { decisions, notes: slotNotes } = fitFreeSlots(ordered, proposed, input.freeSlots);
    notes.push(...slotNotes);

    if (decisions.length === 0) {
      const { targetUtilization: t, targetUtilizationBoundary: b } = this.options;
      return event(false, notes.length > 0 ? notes.join('; ') : `every vertex within utilization ${t} ± ${b}`, []);
    }
    this.lastChange = now;
    this.pending.clear();
    const byId = new Map(ordered.map((v) => [v.vertexId, v]));
    const said = decisions.map((d) => {
      const r = rates.get(d.vertex)!;
      const why = `utilization ${fmt(r.utilization)} at target rate ${fmt(r.targetRate)}/s, true processing rate ${fmt(r.trueProcessingRate)}/s per task`;
      const bound = d.limitedBy === undefined ? '' : `, wanted ${d.wanted}, bound by ${describeLimit(d.limitedBy, byId.get(d.vertex)!, this.options.maxParallelism)}`;
      return `"${d.vertex}" ${d.from} → ${d.to} (${why}${bound})`;
    });
    return event(true, [...said, ...notes].join('; '), decisions);
  }

  /** The change one vertex wants now, if it is to be taken; otherwise a note says why not (when there is something to say). */
  private vertexChange(v: VertexLoad, r: VertexRates, now: number, notes: string[]): AutoscalerDecision | undefined {
    const { targetUtilization: target, targetUtilizationBoundary: boundary, maxParallelism, scaleDownDelayMs } = this.options;
    if (r.optimal === null || r.utilization === null) {
      this.pending.delete(v.vertexId);
      if (r.targetRate > 0) notes.push(`"${v.vertexId}" not measured yet (no busy time)`);
      return undefined;
    }
    if (Math.abs(r.utilization - target) <= boundary) {
      this.pending.delete(v.vertexId);
      return undefined;
    }
    const { to, limitedBy } = capParallelism(r.optimal, v, maxParallelism);
    if (to === v.parallelism && r.optimal > v.parallelism) {
      notes.push(`"${v.vertexId}" wants ${r.optimal} (utilization ${fmt(r.utilization)}), held at ${v.parallelism} by ${describeLimit(limitedBy!, v, maxParallelism)}`);
    }
    if (v.rescalable === false) {
      if (to !== v.parallelism) notes.push(`"${v.vertexId}" wants ${to} but cannot be rescaled`);
      return undefined;
    }
    if (to > v.parallelism) {
      this.pending.delete(v.vertexId);
      return { vertex: v.vertexId, from: v.parallelism, to, wanted: r.optimal, ...(limitedBy !== undefined ? { limitedBy } : {}) };
    }
    if (to === v.parallelism) {
      this.pending.delete(v.vertexId);
      return undefined;
    }
    let p = this.pending.get(v.vertexId);
    if (p === undefined) this.pending.set(v.vertexId, (p = { since: now, highest: to }));
    else p.highest = Math.max(p.highest, to);
    const waited = now - p.since;
    if (waited >= scaleDownDelayMs) return { vertex: v.vertexId, from: v.parallelism, to: p.highest, wanted: r.optimal, ...(limitedBy !== undefined ? { limitedBy } : {}) };
    notes.push(
      `"${v.vertexId}" wants ${v.parallelism} → ${p.highest} (utilization ${fmt(r.utilization)}, band ${fmt(target - boundary)}..${fmt(target + boundary)}) for ${waited} ms of autoscaler.scale-down.delay.ms ${scaleDownDelayMs}`,
    );
    return undefined;
  }
}
