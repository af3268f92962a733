import type { TaskMetrics } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { RecordingLogger, testPlan } from '../test-fixtures.js';
import type { AutoscalerEvent } from './autoscaler-event.js';
import { AutoscalerLoop, type AutoscaledJob, type LoopTimer } from './autoscaler-loop.js';
import { autoscalerOptions } from './autoscaler-options.js';
import { TestPipeline, type Stage } from './test-pipeline.js';

const INTERVAL_MS = 1000;
const STABILIZATION_MS = 3000;

/** A clock and timers the test moves by hand. */
class ManualTimer implements LoopTimer {
  time = 1_000_000;
  private pending: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { at: this.time + ms, fn };
    this.pending.push(entry);
    return () => (this.pending = this.pending.filter((e) => e !== entry));
  }

  get scheduled(): number {
    return this.pending.length;
  }

  /** Moves to the next timer and fires it; false when none is set. */
  fireNext(): boolean {
    if (this.pending.length === 0) return false;
    const next = this.pending.reduce((a, b) => (b.at < a.at ? b : a));
    this.pending = this.pending.filter((e) => e !== next);
    this.time = Math.max(this.time, next.at);
    next.fn();
    return true;
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}
const deferred = (): Deferred => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

/**
 * A job whose figures come from a TestPipeline (its plan a chain of the same stages) and whose
 * rescales are recorded; each rescale waits for the test unless `autoComplete`.
 */
class FakeJob implements AutoscaledJob {
  readonly id = 'job-1';
  blocked: string | undefined;
  attempt = 0;
  autoComplete = true;
  readonly rescales: { vertex: string; to: number; done: Deferred }[] = [];
  failWith: Error | undefined;

  constructor(readonly pipeline: TestPipeline) {}

  get plan() {
    return testPlan({}, this.pipeline.stages);
  }

  blocker(): string | undefined {
    return this.blocked;
  }

  generation(): number {
    return this.attempt;
  }

  taskMetrics(): readonly TaskMetrics[] {
    return this.pipeline.measure(INTERVAL_MS / 1000).vertices.flatMap((v) =>
      v.tasks.map((load, index) => ({ taskId: `${v.vertexId}#${index}`, vertexName: v.vertexId, recordsIn: 0, recordsOut: 0, attempt: this.attempt, ...load })),
    );
  }

  freeSlots(): number | undefined {
    return undefined;
  }

  rescale(vertex: string, to: number): Promise<unknown> {
    const done = deferred();
    this.rescales.push({ vertex, to, done });
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    if (this.autoComplete) done.resolve();
    return done.promise.then(() => {
      this.attempt++;
      this.pipeline.apply([{ vertex, from: this.pipeline.parallelism(vertex), to, wanted: to }]);
    });
  }
}

function setup(stages: Stage[], demand: number, config: Record<string, number | boolean> = {}) {
  const timer = new ManualTimer();
  const job = new FakeJob(new TestPipeline(stages, demand, { reportBacklog: false }));
  const logger = new RecordingLogger();
  const options = autoscalerOptions({
    'autoscaler.enabled': true,
    'autoscaler.interval.ms': INTERVAL_MS,
    'autoscaler.stabilization.ms': STABILIZATION_MS,
    'autoscaler.scale-down.delay.ms': 0,
    ...config,
  });
  const loop = new AutoscalerLoop({ job, options, logger, timer });
  /** Fires the next `n` ticks, each run to its end. */
  const ticks = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      if (!timer.fireNext()) throw new Error(`no tick scheduled (after ${i} of ${n})`);
      await loop.idle();
    }
  };
  const events = (): AutoscalerEvent[] => loop.events.list();
  return { timer, job, loop, logger, ticks, events };
}

// A slow map (300 records/s per task) at 250 records/s and an oversized second map: a decision
// that lowers one vertex and raises another (no scale-down delay, so both come at once).
const twoMaps = (): Stage[] => [
  { id: 'source', ratePerTask: 100_000, selectivity: 1, parallelism: 1 },
  { id: 'wide', ratePerTask: 300, selectivity: 1, parallelism: 4 },
  { id: 'slow', ratePerTask: 300, selectivity: 1, parallelism: 1 },
  { id: 'sink', ratePerTask: 100_000, selectivity: 1, parallelism: 1 },
];

describe('AutoscalerLoop', () => {
  it('does nothing while autoscaler.enabled is false', () => {
    const { timer, loop } = setup(twoMaps(), 250, { 'autoscaler.enabled': false });
    loop.start();
    expect(loop.active).toBe(false);
    expect(timer.scheduled).toBe(0);
  });

  it('evaluates every interval, keeps every event, and waits out the stabilization time from its start', async () => {
    const { timer, loop, ticks, events, job } = setup(twoMaps(), 250);
    const started = timer.time;
    loop.start();
    await ticks(2);
    expect(events()).toHaveLength(2);
    expect(events().every((e) => !e.taken && e.reason.startsWith('stabilizing'))).toBe(true);
    expect(events().map((e) => e.time - started)).toEqual([INTERVAL_MS, 2 * INTERVAL_MS]);
    expect(job.rescales).toEqual([]);
  });

  it('applies a taken decision lowerings first, one rescale at a time, each awaited, and no tick runs meanwhile', async () => {
    const { timer, loop, ticks, events, job } = setup(twoMaps(), 250);
    job.autoComplete = false;
    loop.start();
    await ticks(2);
    timer.fireNext(); // the third tick: stabilization is over
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    const decision = events().at(-1)!;
    expect(decision.taken).toBe(true);
    // At 250 records/s: "wide" 4 → ceil(250 / 210) = 2, "slow" 1 → 2.
    expect(decision.decisions.map((d) => [d.vertex, d.from, d.to])).toEqual([
      ['wide', 4, 2],
      ['slow', 1, 2],
    ]);
    // Only the lowering was asked for, and no next tick is pending while it runs.
    expect(job.rescales.map((r) => [r.vertex, r.to])).toEqual([['wide', 2]]);
    expect(timer.scheduled).toBe(0);
    job.rescales[0].done.resolve();
    await new Promise((r) => setImmediate(r));
    expect(job.rescales.map((r) => [r.vertex, r.to])).toEqual([
      ['wide', 2],
      ['slow', 2],
    ]);
    expect(timer.scheduled).toBe(0);
    timer.time += 5 * STABILIZATION_MS; // a slow rescale
    job.rescales[1].done.resolve();
    await loop.idle();
    expect(timer.scheduled).toBe(1);
    expect(job.pipeline.parallelism('wide')).toBe(2);
    expect(job.pipeline.parallelism('slow')).toBe(2);

    // The stabilization time runs from the end of the rescales: STABILIZATION_MS / INTERVAL_MS ticks say so.
    const before = events().length;
    await ticks(STABILIZATION_MS / INTERVAL_MS - 1);
    expect(events().slice(before).every((e) => e.reason.startsWith('stabilizing'))).toBe(true);
    // Then the figures are within the band (250 / 600 per vertex ≈ 0.42 is below it, but 2 is what DS2 wants): nothing more.
    await ticks(5);
    expect(events().slice(before + 2).every((e) => !e.taken && !e.reason.startsWith('stabilizing'))).toBe(true);
    expect(job.rescales).toHaveLength(2);
  });

  it('skips with an event while a rescale or a recovery is in progress or the job is not running, without evaluating', async () => {
    const { loop, ticks, events, job } = setup(twoMaps(), 250, { 'autoscaler.stabilization.ms': 0 });
    job.blocked = 'a recovery is in progress';
    loop.start();
    await ticks(3);
    expect(events()).toHaveLength(3);
    for (const e of events()) expect(e).toMatchObject({ taken: false, outcome: 'skipped', reason: 'skipped: a recovery is in progress', rates: {}, decisions: [] });
    expect(job.rescales).toEqual([]);
    job.blocked = undefined;
    await ticks(1);
    expect(events().at(-1)!.taken).toBe(true);
  });

  it('a change it did not make (a user rescale, a recovery) starts the stabilization time again', async () => {
    const { loop, ticks, events, job } = setup(twoMaps(), 250);
    loop.start();
    await ticks(STABILIZATION_MS / INTERVAL_MS - 1);
    job.attempt++; // e.g. a recovery redeployed a task
    await ticks(1);
    expect(events().at(-1)!.reason).toMatch(/^stabilizing: 3000 ms left/);
    expect(job.rescales).toEqual([]);
  });

  it('a failed rescale is an event naming the change, its error code and what was not applied; the loop goes on', async () => {
    const { timer, loop, ticks, events, job, logger } = setup(twoMaps(), 250, { 'autoscaler.stabilization.ms': 0 });
    job.failWith = Object.assign(new Error('job job-1: a recovery is in progress; try again once it is done'), { code: 'RESCALE_CONFLICT' });
    loop.start();
    await ticks(1);
    const [decision, failed] = events();
    expect(decision.taken).toBe(true);
    expect(failed).toMatchObject({ kind: 'autoscaler', taken: false, outcome: 'failed', decisions: [] });
    expect(failed.reason).toBe('"wide" 4 → 2 failed (RESCALE_CONFLICT): job job-1: a recovery is in progress; try again once it is done; not applied: "slow" 1 → 2');
    expect(job.rescales.map((r) => r.vertex)).toEqual(['wide']);
    expect(logger.entries.some((e) => e.level === 'warn' && e.msg === 'autoscaler: rescale failed')).toBe(true);
    expect(timer.scheduled).toBe(1);
    job.failWith = undefined;
    await ticks(1);
    expect(job.rescales.map((r) => r.vertex)).toEqual(['wide', 'wide', 'slow']);
  });

  it('stops for good: no tick after stop, and a stop during a rescale applies nothing more of the decision', async () => {
    const { timer, loop, ticks, job } = setup(twoMaps(), 250, { 'autoscaler.stabilization.ms': 0 });
    job.autoComplete = false;
    loop.start();
    timer.fireNext();
    await new Promise((r) => setImmediate(r));
    expect(job.rescales).toHaveLength(1);
    loop.stop();
    job.rescales[0].done.resolve();
    await loop.idle();
    expect(job.rescales).toHaveLength(1);
    expect(timer.scheduled).toBe(0);
    expect(loop.active).toBe(false);
    loop.start(); // once only
    expect(timer.scheduled).toBe(0);
    await expect(ticks(1)).rejects.toThrow(/no tick scheduled/);
  });
});
