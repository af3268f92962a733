import type { TaskLoad, VertexLoad } from './vertex-load.js';

/** What the autoscaler measured and derived for one vertex, as its events show it. */
export interface VertexRates {
  readonly parallelism: number;
  /** Records per second the vertex's tasks took in, summed (a source: records it read). */
  readonly inputRate: number;
  /** Mean over the tasks of records per second of busy time; null when no task was busy. */
  readonly trueProcessingRate: number | null;
  /** Input rate the vertex must sustain so that the sources keep up with their data (DS2). */
  readonly targetRate: number;
  /** Mean fraction of the time the tasks were busy (0..1). */
  readonly busy: number;
  /** Mean fraction of the time the tasks waited for credit downstream (0..1). */
  readonly backPressured: number;
  /** targetRate / (trueProcessingRate × parallelism): how busy the vertex would be at the target rate; null when unknown. */
  readonly utilization: number | null;
  /** ceil(targetRate / (trueProcessingRate × target utilization)), at least 1, before any limit; null when unknown. */
  readonly optimal: number | null;
}

// A ratio computed from rates is a float: 4.000000001 tasks must not become 5.
const CEIL_SLACK = 1e-9;

const sumOf = (tasks: readonly TaskLoad[], pick: (t: TaskLoad) => number | undefined): number => {
  let sum = 0;
  for (const t of tasks) {
    const x = pick(t);
    if (x !== undefined && Number.isFinite(x) && x > 0) sum += x;
  }
  return sum;
};

/** Per task: the reported true processing rate, else records in per busy second. */
function taskProcessingRate(t: TaskLoad): number | undefined {
  if (t.trueProcessingRate !== undefined && Number.isFinite(t.trueProcessingRate) && t.trueProcessingRate > 0) return t.trueProcessingRate;
  const busy = t.busyTimeMsPerSecond ?? 0;
  const rate = t.recordsInPerSecond ?? 0;
  return busy > 0 && rate > 0 ? (rate * 1000) / busy : undefined;
}

function meanProcessingRate(tasks: readonly TaskLoad[]): number | null {
  let sum = 0;
  let n = 0;
  for (const t of tasks) {
    const r = taskProcessingRate(t);
    if (r !== undefined) {
      sum += r;
      n++;
    }
  }
  return n === 0 ? null : sum / n;
}

const fraction = (tasks: readonly TaskLoad[], pick: (t: TaskLoad) => number | undefined): number =>
  tasks.length === 0 ? 0 : Math.min(1, sumOf(tasks, pick) / 1000 / tasks.length);

/**
 * DS2's one pass: each source's target is what it read plus its backlog growth; every other
 * vertex's target is the sum, over its inputs, of the upstream target scaled by that edge's
 * measured ratio (records on the edge per record the upstream took in), so a flatMap's fan-out,
 * a filter's selectivity and a broadcast's copies carry through. Each vertex then needs
 * ceil(target / (true processing rate per task × target utilization)) tasks.
 *
 * The rate on an edge u → d: d's input rate when d reads from u alone; otherwise u's output
 * split among its downstream vertices in proportion to their input rates (an estimate, exact
 * when u feeds d alone). An edge whose upstream took nothing in counts one record per record.
 */
export function ds2Rates(ordered: readonly VertexLoad[], targetUtilization: number): Map<string, VertexRates> {
  const inputRate = new Map<string, number>();
  const outputRate = new Map<string, number>();
  const downstream = new Map<string, VertexLoad[]>();
  for (const v of ordered) {
    inputRate.set(v.vertexId, sumOf(v.tasks, (t) => t.recordsInPerSecond));
    outputRate.set(v.vertexId, sumOf(v.tasks, (t) => t.recordsOutPerSecond));
    downstream.set(v.vertexId, []);
  }
  for (const v of ordered) for (const u of new Set(v.upstream)) downstream.get(u)!.push(v);

  const edgeRate = (u: string, d: VertexLoad): number => {
    if (new Set(d.upstream).size === 1) return inputRate.get(d.vertexId)!;
    const siblings = downstream.get(u)!;
    let total = 0;
    for (const s of siblings) total += inputRate.get(s.vertexId)!;
    const share = total > 0 ? inputRate.get(d.vertexId)! / total : 1 / siblings.length;
    return outputRate.get(u)! * share;
  };

  const target = new Map<string, number>();
  const out = new Map<string, VertexRates>();
  for (const v of ordered) {
    let t = 0;
    if (v.source) {
      t = Math.max(0, inputRate.get(v.vertexId)! + (v.backlogGrowthPerSecond ?? 0));
    } else {
      for (const u of new Set(v.upstream)) {
        const uIn = inputRate.get(u)!;
        const ratio = uIn > 0 ? edgeRate(u, v) / uIn : 1;
        t += target.get(u)! * ratio;
      }
    }
    target.set(v.vertexId, t);
    const tpr = meanProcessingRate(v.tasks);
    const capacity = tpr === null ? null : tpr * v.parallelism;
    out.set(v.vertexId, {
      parallelism: v.parallelism,
      inputRate: inputRate.get(v.vertexId)!,
      trueProcessingRate: tpr,
      targetRate: t,
      busy: fraction(v.tasks, (x) => x.busyTimeMsPerSecond),
      backPressured: fraction(v.tasks, (x) => x.backPressuredTimeMsPerSecond),
      utilization: capacity === null ? null : t / capacity,
      optimal: tpr === null ? null : Math.max(1, Math.ceil(t / (tpr * targetUtilization) - CEIL_SLACK)),
    });
  }
  return out;
}
