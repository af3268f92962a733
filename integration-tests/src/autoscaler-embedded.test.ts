import { afterAll, describe, expect, it, vi } from 'vitest';
import { StreamingContext, type AutoscalerEvent, type JobHandle, type SourceContext } from 'mobius';
import type { RescaleEvent } from '@mobius/interface';
import { tempDir } from './helpers.js';

// The slow map's cost per record. Substitute (see the README of this test below): the map
// awaits a timer instead of spinning, because embedded live rescaling needs every task on the
// calling thread (execution.threads 0), where more spinning tasks would add no CPU. Waiting is
// what a map calling a slow service does, and its busy time counts the wait, as a spin's would.
const COST_MS = 8;
const INTERVAL_MS = 1000;
const STABILIZATION_MS = 3000;
const SCALE_DOWN_DELAY_MS = 4000;
const WINDOW_MS = 2000;
const TARGET = 0.7;
const BOUNDARY = 0.1;
// Two map tasks is what this test aims at (a 2-core machine runs two tasks truly in parallel):
// the bound keeps a figure spoilt by the load of the machine from asking for a third.
const MAX_PARALLELISM = 2;
/** Evaluations in a row, after the figures settled, that must leave the parallelism alone. */
const STEADY = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records per second one task of the slow map can take here and now: measured, not assumed. */
async function calibrate(): Promise<number> {
  const n = 40;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await sleep(COST_MS);
  return (1000 * n) / (performance.now() - t0);
}

/**
 * A paced source: `rate` records per second on a schedule. What it could not emit in time
 * (backpressure) is its backlog, emitted as fast as the job takes it; a producer's buffer holds
 * at most `maxBacklog` records, beyond which the oldest are dropped. The test changes `rate`
 * through this shared object; the schedule restarts from the current backlog.
 */
class PacedFeed {
  emitted = 0;
  dropped = 0;
  private base = performance.now();
  private baseCount = 0;

  constructor(
    private rate: number,
    private readonly maxBacklog: number,
  ) {}

  private due(now: number): number {
    return this.baseCount + Math.floor(((now - this.base) * this.rate) / 1000);
  }

  /** Records behind the schedule now. */
  backlog(now = performance.now()): number {
    return Math.max(0, this.due(now) - this.emitted - this.dropped);
  }

  setRate(rate: number): void {
    const now = performance.now();
    this.baseCount = this.due(now);
    this.base = now;
    this.rate = rate;
  }

  async fetch(c: SourceContext<number>): Promise<void> {
    const now = performance.now();
    let behind = this.backlog(now);
    if (behind > this.maxBacklog) {
      this.dropped += behind - this.maxBacklog;
      behind = this.maxBacklog;
    }
    if (behind === 0) {
      await sleep(Math.max(1, 1000 / this.rate));
      return;
    }
    for (let i = 0; i < Math.min(behind, 16); i++) c.collect(this.emitted++);
  }
}

/** The embedded job handle, with its autoscaler and rescale events. */
type EmbeddedJob = JobHandle & { autoscalerEvents(): readonly AutoscalerEvent[]; rescaleEvents(): readonly RescaleEvent[] };

describe('the autoscaler in embedded mode', () => {
  const tmp = tempDir('mobius-autoscaler-');
  afterAll(() => tmp.remove());

  it('raises a slow map that one task cannot keep up with to 2 in at most three decisions, holds it while the rate holds, and scales down once after the delay when it drops', { timeout: 240_000 }, async () => {
    const perTask = await calibrate();
    // One task cannot keep up (1.3 > 1); two are busy 1.3 / 2 = 0.65, within the band around 0.7.
    const high = 1.3 * perTask;
    // One task is busy 0.4: DS2 wants ceil(0.4 / 0.7) = 1.
    const low = 0.4 * perTask;
    const feed = new PacedFeed(high, Math.ceil(2 * high));
    const ctx = StreamingContext.builder()
      .option('execution.threads', 0)
      .option('checkpoint.interval.ms', 500)
      .option('checkpoint.dir', tmp.dir)
      .option('metrics.load.window.ms', WINDOW_MS)
      // Small frames and few credits: what sits in channels is a small part of the backlog.
      .option('runtime.batch.size', 4)
      .option('runtime.channel.credits', 2)
      // One record at a time per map task: a task's rate is 1 / cost.
      .option('runtime.async.capacity', 1)
      .option('autoscaler.enabled', true)
      .option('autoscaler.interval.ms', INTERVAL_MS)
      .option('autoscaler.stabilization.ms', STABILIZATION_MS)
      .option('autoscaler.scale-down.delay.ms', SCALE_DOWN_DELAY_MS)
      .option('autoscaler.target-utilization', TARGET)
      .option('autoscaler.target-utilization.boundary', BOUNDARY)
      .option('autoscaler.max-parallelism', MAX_PARALLELISM)
      .build();
    ctx
      .source<number>({ fetch: (c) => feed.fetch(c) })
      .name('paced')
      .map(async (n: number) => {
        await sleep(COST_MS);
        return n;
      })
      .name('slow')
      .disableChain()
      .sink(() => undefined)
      .name('out');
    const job = (await ctx.submit('autoscaler-embedded')) as EmbeddedJob;
    try {
      const slowVertex = (): string => job.metrics().find((m) => m.vertexName.startsWith('slow'))!.taskId.split('#')[0];
      const evaluations = (): AutoscalerEvent[] => job.autoscalerEvents().filter((e) => e.outcome === undefined);
      const taken = (): AutoscalerEvent[] => evaluations().filter((e) => e.taken);
      /** Evaluations after `since` that looked at settled figures (not stabilizing). */
      const settled = (since: number): AutoscalerEvent[] => evaluations().filter((e) => e.time > since && !e.reason.startsWith('stabilizing'));
      const rescaleEnd = (): number => {
        const last = job.rescaleEvents().at(-1)!;
        return last.time + last.durationMs;
      };
      const waitFor = (what: string, ok: () => boolean): Promise<void> =>
        vi.waitFor(
          () => {
            if (!ok()) throw new Error(`still waiting for ${what}`);
          },
          { timeout: 120_000, interval: 50 },
        );

      // Up: the map goes to 2 and the backlog drains.
      await waitFor('the map at parallelism 2', () => job.rescaleEvents().some((e) => e.to === MAX_PARALLELISM) && !job.autoscalerEvents().some((e) => e.outcome === 'failed'));
      const raisedAt = rescaleEnd();
      await waitFor(`${STEADY} settled evaluations at parallelism 2`, () => settled(raisedAt).length >= STEADY);
      const ups = taken();
      expect(ups.length).toBeGreaterThanOrEqual(1);
      expect(ups.length).toBeLessThanOrEqual(3);
      const vertex = slowVertex();
      for (const e of ups) for (const d of e.decisions) expect(d.vertex).toBe(vertex);
      expect(ups.at(-1)!.decisions.at(-1)!.to).toBe(2);
      // The first decision came from a map busy above the band: one task could not keep up.
      expect(ups[0].rates[vertex].busy).toBeGreaterThan(TARGET + BOUNDARY);
      expect(job.rescaleEvents().every((e) => e.trigger === 'autoscaler' && e.vertex === vertex)).toBe(true);
      expect(job.metrics().filter((m) => m.taskId.startsWith(`${vertex}#`) && m.busyTimeMsPerSecond !== undefined)).toHaveLength(2);
      // While the rate holds: no change, busy near the target, the backlog drained.
      const steady = settled(raisedAt);
      expect(steady.every((e) => !e.taken)).toBe(true);
      const busy = steady.at(-1)!.rates[vertex].busy;
      expect(busy).toBeGreaterThan(TARGET - 2 * BOUNDARY);
      expect(busy).toBeLessThan(TARGET + 2 * BOUNDARY);
      // Less than half a second behind (the producer's buffer holds two seconds).
      expect(feed.backlog()).toBeLessThan(0.5 * high);

      // Down: the rate drops; one lowering, not before the delay, and nothing after it.
      const droppedAt = Date.now();
      feed.setRate(low);
      await waitFor('the map back at parallelism 1', () => job.rescaleEvents().some((e) => e.to === 1));
      const loweredAt = rescaleEnd();
      await waitFor(`${STEADY} settled evaluations at parallelism 1`, () => settled(loweredAt).length >= STEADY);
      const downs = taken().filter((e) => e.time >= droppedAt);
      expect(downs).toHaveLength(1);
      expect(downs[0].decisions).toEqual([expect.objectContaining({ vertex, from: 2, to: 1 })]);
      expect(downs[0].time - droppedAt).toBeGreaterThanOrEqual(SCALE_DOWN_DELAY_MS);
      expect(settled(loweredAt).every((e) => !e.taken)).toBe(true);
      // The job keeps up at the lower rate with one task: records flow and no backlog builds.
      expect(settled(loweredAt).at(-1)!.rates[vertex].inputRate).toBeGreaterThan(0.5 * low);
      expect(feed.backlog()).toBeLessThan(0.5 * low);
      expect(taken()).toHaveLength(ups.length + 1);
      expect(job.rescaleEvents()).toHaveLength(ups.length + 1);
    } finally {
      await job.cancel();
    }
  });
});
