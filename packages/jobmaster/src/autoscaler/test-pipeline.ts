import type { AutoscalerDecision } from './autoscaler-limits.js';
import type { AutoscalerInput, TaskLoad, VertexLoad } from './vertex-load.js';

/** One stage of a simulated chain: a per-task true processing rate and records out per record in. */
export interface Stage {
  readonly id: string;
  readonly ratePerTask: number;
  readonly selectivity: number;
  parallelism: number;
  readonly maxParallelism?: number;
  readonly slotSharingGroup?: string;
}

/**
 * A chain of stages (the first is the source) fed at `demand` records/s, for the policy tests:
 * it produces the figures a real job would report at the current parallelisms, from plain
 * arithmetic and independently of the policy. The chain runs as fast as its slowest stage
 * allows; what the source cannot take piles up as a backlog, drained at full speed later. A
 * source that does not report its backlog (`reportBacklog: false`) is one that drops what it
 * cannot take, so no backlog builds up.
 */
export class TestPipeline {
  demand: number;
  backlog = 0;
  readonly stages: Stage[];
  private readonly reportBacklog: boolean;

  constructor(stages: Stage[], demand: number, options: { reportBacklog?: boolean } = {}) {
    this.stages = stages;
    this.demand = demand;
    this.reportBacklog = options.reportBacklog ?? true;
  }

  parallelism(id: string): number {
    return this.stage(id).parallelism;
  }

  apply(decisions: readonly AutoscalerDecision[]): void {
    for (const d of decisions) this.stage(d.vertex).parallelism = d.to;
  }

  /** Figures over a window of `seconds`; the backlog moves on by that window. */
  measure(seconds: number, freeSlots?: number): AutoscalerInput {
    // Records reaching stage i per source record, and the source rate each stage can carry.
    const fanIn: number[] = [];
    let f = 1;
    for (const s of this.stages) {
      fanIn.push(f);
      f *= s.selectivity;
    }
    const carry = this.stages.map((s, i) => (s.parallelism * s.ratePerTask) / fanIn[i]);
    const most = Math.min(...carry);
    const rate = this.reportBacklog && this.backlog > 0 ? most : Math.min(this.demand, most);
    const bottleneck = rate === most ? carry.indexOf(most) : -1;
    const growth = this.demand - rate;
    if (this.reportBacklog) this.backlog = Math.max(0, this.backlog + growth * seconds);

    const vertices: VertexLoad[] = this.stages.map((s, i) => {
      const recordsIn = (rate * fanIn[i]) / s.parallelism;
      const busy = (1000 * recordsIn) / s.ratePerTask;
      const task: TaskLoad = {
        busyTimeMsPerSecond: busy,
        backPressuredTimeMsPerSecond: i < bottleneck ? 1000 - busy : 0,
        idleTimeMsPerSecond: i < bottleneck ? 0 : 1000 - busy,
        recordsInPerSecond: recordsIn,
        recordsOutPerSecond: recordsIn * s.selectivity,
        trueProcessingRate: s.ratePerTask,
        trueOutputRate: s.ratePerTask * s.selectivity,
      };
      return {
        vertexId: s.id,
        parallelism: s.parallelism,
        maxParallelism: s.maxParallelism ?? 128,
        tasks: Array.from({ length: s.parallelism }, () => task),
        upstream: i === 0 ? [] : [this.stages[i - 1].id],
        source: i === 0,
        ...(i === 0 && this.reportBacklog ? { backlogGrowthPerSecond: growth } : {}),
        ...(s.slotSharingGroup !== undefined ? { slotSharingGroup: s.slotSharingGroup } : {}),
      };
    });
    return freeSlots === undefined ? { vertices } : { vertices, freeSlots };
  }

  private stage(id: string): Stage {
    const s = this.stages.find((x) => x.id === id);
    if (s === undefined) throw new Error(`no stage "${id}"`);
    return s;
  }
}
