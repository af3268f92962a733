import { describe, expect, it } from 'vitest';
import type { AutoscalerEvent } from './autoscaler-event.js';
import { autoscalerOptions } from './autoscaler-options.js';
import { AutoscalerPolicy } from './autoscaler-policy.js';
import { TestPipeline, type Stage } from './test-pipeline.js';

const INTERVAL_MS = 10_000;
const STABILIZATION_MS = 30_000;
const DELAY_MS = 120_000;

function setup(stages: Stage[], demand: number, config: Record<string, number> = {}, reportBacklog = true) {
  let now = 1_000_000;
  const policy = new AutoscalerPolicy(
    autoscalerOptions({
      'autoscaler.interval.ms': INTERVAL_MS,
      'autoscaler.stabilization.ms': STABILIZATION_MS,
      'autoscaler.scale-down.delay.ms': DELAY_MS,
      ...config,
    }),
    () => now,
  );
  const job = new TestPipeline(stages, demand, { reportBacklog });
  const events: AutoscalerEvent[] = [];
  /**
   * `n` evaluations, one per interval, each applying what was taken before the next window. With
   * `totalSlots`, the job alone in a cluster of that many slots (one slot-sharing group).
   */
  const run = (n: number, totalSlots?: number): AutoscalerEvent[] => {
    const mine: AutoscalerEvent[] = [];
    for (let i = 0; i < n; i++) {
      now += INTERVAL_MS;
      const free = totalSlots === undefined ? undefined : totalSlots - Math.max(...job.stages.map((s) => s.parallelism));
      const e = policy.evaluate(job.measure(INTERVAL_MS / 1000, free));
      if (e.taken) job.apply(e.decisions);
      mine.push(e);
    }
    events.push(...mine);
    return mine;
  };
  return { policy, job, run, events, now: () => now };
}

const taken = (events: readonly AutoscalerEvent[]): AutoscalerEvent[] => events.filter((e) => e.taken);

// A slow map: a fixed cost per record gives each task a true processing rate of 300 records/s.
const slowMapJob = (): Stage[] => [
  { id: 'source', ratePerTask: 100_000, selectivity: 1, parallelism: 1 },
  { id: 'map', ratePerTask: 300, selectivity: 1, parallelism: 1 },
  { id: 'sink', ratePerTask: 100_000, selectivity: 0, parallelism: 1 },
];
// At 1000 records/s and target utilization 0.7: ceil(1000 / (300 × 0.7)) = ceil(4.76) = 5 tasks, busy 1000/1500.
const MAP_AT_1000 = 5;
// At 400 records/s: ceil(400 / 210) = ceil(1.90) = 2 tasks.
const MAP_AT_400 = 2;

describe('AutoscalerPolicy: a slow map fed faster than one task can go', () => {
  it('raises the map in at most three decisions to a parallelism with busy near the target, holds it, and scales down once after the delay', () => {
    const { job, run, now } = setup(slowMapJob(), 1000);
    const rising = run(30);
    expect(taken(rising).length).toBeGreaterThanOrEqual(1);
    expect(taken(rising).length).toBeLessThanOrEqual(3);
    expect(job.parallelism('map')).toBe(MAP_AT_1000);
    expect(job.parallelism('source')).toBe(1);
    expect(job.parallelism('sink')).toBe(1);
    expect(job.backlog).toBe(0);
    const last = rising[rising.length - 1];
    expect(last.rates.map.busy).toBeGreaterThan(0.6);
    expect(last.rates.map.busy).toBeLessThanOrEqual(0.8);

    // The rate stays: no change, and every evaluation says why.
    const steady = run(60);
    expect(taken(steady)).toEqual([]);
    expect(steady.every((e) => e.reason.length > 0 && e.decisions.length === 0)).toBe(true);

    job.demand = 400;
    const dropAt = now();
    const falling = run(60);
    const downs = taken(falling);
    expect(downs).toHaveLength(1);
    expect(downs[0].decisions).toEqual([{ vertex: 'map', from: MAP_AT_1000, to: MAP_AT_400, wanted: MAP_AT_400 }]);
    expect(downs[0].time - dropAt).toBeGreaterThanOrEqual(DELAY_MS);
    expect(downs[0].time - dropAt).toBeLessThanOrEqual(DELAY_MS + 2 * INTERVAL_MS);
    expect(job.parallelism('map')).toBe(MAP_AT_400);
    // While it waits, the events say so.
    expect(falling.some((e) => !e.taken && /map.*scale-down\.delay\.ms/.test(e.reason))).toBe(true);
  });

  it('decides in one step when the source reports its backlog growth', () => {
    const { job, run } = setup(slowMapJob(), 1000);
    const events = run(10);
    expect(taken(events)).toHaveLength(1);
    expect(taken(events)[0].decisions).toEqual([{ vertex: 'map', from: 1, to: MAP_AT_1000, wanted: MAP_AT_1000 }]);
    // Draining the backlog the map runs flat out, yet the target stays the demand.
    expect(events.some((e) => e.rates.map.busy === 1 && Math.abs(e.rates.source.targetRate - 1000) < 1e-6)).toBe(true);
    expect(job.backlog).toBe(0);
  });

  it('converges in at most three decisions when the source only reports what it emits', () => {
    const { job, run } = setup(slowMapJob(), 1000, {}, false);
    const events = run(40);
    // 300/s → 2 tasks; 600/s → 3; 900/s → 5 (DS2 needs no more than three steps).
    expect(taken(events).map((e) => e.decisions[0].to)).toEqual([2, 3, MAP_AT_1000]);
    expect(job.parallelism('map')).toBe(MAP_AT_1000);
  });
});

// source → split (a flatMap: 3 words per line) → count → sink.
const chain = (): Stage[] => [
  { id: 'source', ratePerTask: 100_000, selectivity: 1, parallelism: 1 },
  { id: 'split', ratePerTask: 1500, selectivity: 3, parallelism: 1 },
  { id: 'count', ratePerTask: 500, selectivity: 1, parallelism: 1 },
  { id: 'sink', ratePerTask: 800, selectivity: 0, parallelism: 1 },
];

describe('AutoscalerPolicy: chains of operators', () => {
  it('sets every vertex of a chain in one decision, carrying the flatMap fan-out downstream', () => {
    const { job, run } = setup(chain(), 400);
    const events = run(20);
    expect(taken(events)).toHaveLength(1);
    // split: ceil(400 / 1050) = 1; count: ceil(1200 / 350) = 4; sink: ceil(1200 / 560) = 3.
    expect(taken(events)[0].decisions).toEqual([
      { vertex: 'count', from: 1, to: 4, wanted: 4 },
      { vertex: 'sink', from: 1, to: 3, wanted: 3 },
    ]);
    expect(job.stages.map((s) => s.parallelism)).toEqual([1, 1, 4, 3]);
    expect(taken(events)[0].rates.count.targetRate).toBeCloseTo(1200, 6);
  });

  it('scales several vertices in one decision when the source rate rises', () => {
    const stages = chain();
    stages[2].parallelism = 4;
    stages[3].parallelism = 3;
    const { job, run } = setup(stages, 400);
    expect(taken(run(20))).toEqual([]);
    job.demand = 1200;
    const events = run(20);
    expect(taken(events)).toHaveLength(1);
    // split: ceil(1200 / 1050) = 2; count: ceil(3600 / 350) = 11; sink: ceil(3600 / 560) = 7.
    expect(taken(events)[0].decisions).toEqual([
      { vertex: 'split', from: 1, to: 2, wanted: 2 },
      { vertex: 'count', from: 4, to: 11, wanted: 11 },
      { vertex: 'sink', from: 3, to: 7, wanted: 7 },
    ]);
  });
});

describe('AutoscalerPolicy: limits', () => {
  it('holds a raise at autoscaler.max-parallelism and says so', () => {
    const { job, run } = setup(slowMapJob(), 1000, { 'autoscaler.max-parallelism': 3 });
    const events = run(20);
    expect(taken(events)).toHaveLength(1);
    expect(taken(events)[0].decisions).toEqual([{ vertex: 'map', from: 1, to: 3, wanted: MAP_AT_1000, limitedBy: 'autoscaler.max-parallelism' }]);
    expect(taken(events)[0].reason).toContain('bound by autoscaler.max-parallelism 3');
    expect(job.parallelism('map')).toBe(3);
    // At the limit it keeps saying why it does not go further, and never flaps.
    expect(events[events.length - 1].reason).toMatch(/"map" wants 5 .*held at 3 by autoscaler\.max-parallelism 3/);
  });

  it("holds a raise at the vertex's max parallelism", () => {
    const stages = slowMapJob();
    stages[1] = { ...stages[1], maxParallelism: 4 };
    const { run } = setup(stages, 1000);
    const decision = taken(run(10))[0];
    expect(decision.decisions).toEqual([{ vertex: 'map', from: 1, to: 4, wanted: MAP_AT_1000, limitedBy: 'max-parallelism' }]);
    expect(decision.reason).toContain("bound by the vertex's max parallelism 4");
  });

  it('holds a raise at the free slots, naming what is needed and what is free', () => {
    const { job, run } = setup(slowMapJob(), 1000);
    const events = run(20, 3);
    expect(taken(events)).toHaveLength(1);
    const decision = taken(events)[0];
    // One slot-sharing group at 1 slot of 3; 2 free: at most 3.
    expect(decision.decisions).toEqual([{ vertex: 'map', from: 1, to: 3, wanted: MAP_AT_1000, limitedBy: 'free-slots' }]);
    expect(decision.reason).toContain('bound by the free slots');
    expect(decision.reason).toContain('4 more needed');
    expect(decision.reason).toContain('2 free');
    expect(job.parallelism('map')).toBe(3);
  });

  it('never changes a vertex that cannot be rescaled', () => {
    const { policy, job } = setup(slowMapJob(), 1000);
    const input = job.measure(10);
    const fixed = { ...input, vertices: input.vertices.map((v) => (v.vertexId === 'map' ? { ...v, rescalable: false } : v)) };
    let now = 0;
    const fresh = new AutoscalerPolicy(policy.options, () => now);
    now += STABILIZATION_MS;
    const e = fresh.evaluate(fixed);
    expect(e.taken).toBe(false);
    expect(e.reason).toContain('"map" wants 5 but cannot be rescaled');
  });
});

describe('AutoscalerPolicy: steadiness', () => {
  it('decides nothing during the stabilization time after a change, nor after noteChange()', () => {
    const { policy, job, run } = setup(slowMapJob(), 1000);
    // The start counts as a change: the first evaluations (10 s, 20 s) are within 30 s.
    const first = run(3);
    expect(first.map((e) => e.taken)).toEqual([false, false, true]);
    expect(first[0].reason).toMatch(/^stabilizing: 20000 ms left/);
    job.demand = 5000;
    const after = run(2);
    expect(after.every((e) => !e.taken && e.reason.startsWith('stabilizing'))).toBe(true);
    expect(after[0].rates.source.targetRate).toBeGreaterThan(1000);
    run(1);
    policy.noteChange();
    const afterUser = run(2);
    expect(afterUser.every((e) => !e.taken && e.reason.startsWith('stabilizing'))).toBe(true);
  });

  it('does not flap on noisy figures around the target', () => {
    const stages = slowMapJob();
    stages[1].parallelism = MAP_AT_1000;
    const { job, run } = setup(stages, 1000);
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const events: AutoscalerEvent[] = [];
    for (let i = 0; i < 200; i++) {
      job.demand = 1000 * (0.92 + 0.16 * random()); // busy 0.61 .. 0.72 at 5 tasks
      events.push(...run(1));
    }
    expect(taken(events)).toEqual([]);
  });

  it('takes no lowering that is not wanted continuously for the delay', () => {
    const stages = slowMapJob();
    stages[1].parallelism = MAP_AT_1000;
    const { job, run } = setup(stages, 1000);
    const events: AutoscalerEvent[] = [];
    for (let i = 0; i < 100; i++) {
      // Every other window the rate halves (wants 4 tasks), then comes back (inside the band).
      job.demand = i % 2 === 0 ? 700 : 1000;
      events.push(...run(1));
    }
    expect(taken(events)).toEqual([]);
    expect(job.parallelism('map')).toBe(MAP_AT_1000);
  });

  it('takes the highest parallelism wanted during the delay', () => {
    const stages = slowMapJob();
    stages[1].parallelism = 8;
    const { job, run } = setup(stages, 400, { 'autoscaler.stabilization.ms': 0 });
    run(3); // wants 2
    job.demand = 800; // wants ceil(800 / 210) = 4, still a lowering from 8 (busy 800/2400)
    run(1);
    job.demand = 400;
    const events = run(20);
    expect(taken(events)).toHaveLength(1);
    expect(taken(events)[0].decisions[0]).toMatchObject({ from: 8, to: 4 });
  });
});
