import type { JobHandle, SourceContext, TaskMetrics } from '@mobius/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbeddedRunner, StreamingContext } from './index.js';

/** Wall-clock cost of the slow map, per record. */
const COST_MS = 2;
const WINDOW_MS = 3000;

/** Spins for `ms` of wall-clock time: a fixed CPU cost per record. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** Small frames and few credits: the channel into the slow map fills in well under a second, so backpressure starts early. */
function context(): StreamingContext {
  return StreamingContext.builder()
    .runner(new EmbeddedRunner())
    .option('metrics.load.window.ms', WINDOW_MS)
    .option('runtime.batch.size', 128)
    .option('runtime.channel.credits', 2)
    .build();
}

function taskOf(job: JobHandle, vertex: string): TaskMetrics | undefined {
  return job.metrics().find((t) => t.vertexName.startsWith(vertex));
}

const running: JobHandle[] = [];
afterEach(async () => {
  for (const job of running.splice(0)) await job.cancel();
});

describe('load metrics of an embedded job', () => {
  it('a CPU-bound map fed faster than it can go is busy, its source backpressured, and its true processing rate is 1000 / cost', async () => {
    const ctx = context();
    let next = 0;
    ctx
      .source<number>({
        // Always has input: 64 records a batch, as fast as credit lets them through.
        fetch(c: SourceContext<number>) {
          for (let i = 0; i < 64; i++) c.collect(next++);
        },
      })
      .name('feed')
      .map((n: number) => {
        spin(COST_MS);
        return n;
      })
      .name('slow')
      .disableChain()
      .sink(() => undefined);
    const job = await ctx.submit('load-busy');
    running.push(job);

    let slow: TaskMetrics | undefined;
    let feed: TaskMetrics | undefined;
    // The figures cover whole seconds of a full window once the job ran that long; until then they may still move.
    await vi.waitFor(
      () => {
        slow = taskOf(job, 'slow');
        feed = taskOf(job, 'feed');
        expect(slow?.recordsIn ?? 0).toBeGreaterThan((2 * WINDOW_MS) / COST_MS);
        expect(slow?.busyTimeMsPerSecond).toBeGreaterThan(850);
        expect(feed?.backPressuredTimeMsPerSecond).toBeGreaterThan(800);
      },
      { timeout: 60_000, interval: 100 },
    );
    const s = slow!;
    const times = s.busyTimeMsPerSecond! + s.backPressuredTimeMsPerSecond! + s.idleTimeMsPerSecond!;
    expect(times).toBeGreaterThan(990);
    expect(times).toBeLessThan(1010);
    // Each record costs COST_MS of busy time, plus the loop's own overhead: the rate is at most 1000 / COST_MS.
    const ideal = 1000 / COST_MS;
    expect(s.trueProcessingRate!).toBeGreaterThan(0.7 * ideal);
    expect(s.trueProcessingRate!).toBeLessThan(1.05 * ideal);
    // Busy almost all the time, the map takes in about what it could.
    expect(s.recordsInPerSecond!).toBeGreaterThan(0.6 * ideal);
    expect(s.recordsInPerSecond!).toBeLessThanOrEqual(s.trueProcessingRate! * 1.01);
    // The map sends every record on to its sink: out as much as in (frames count when they leave).
    expect(s.recordsOutPerSecond!).toBeGreaterThan(0.8 * s.recordsInPerSecond!);
    expect(s.trueOutputRate!).toBeGreaterThan(0.8 * s.trueProcessingRate!);
    // The source sends what the map takes, and spends almost none of its own time doing it.
    expect(feed!.recordsOutPerSecond!).toBeGreaterThan(0.5 * ideal);
    expect(feed!.busyTimeMsPerSecond!).toBeLessThan(100);
    if (feed!.trueOutputRate !== undefined) expect(feed!.trueOutputRate).toBeGreaterThan(5 * feed!.recordsOutPerSecond!);
  }, 90_000);

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /** Sources of one record every 50 ms, written the three usual ways. */
  const trickles: Record<string, () => (c: SourceContext<number>) => void | Promise<void>> = {
    // A synchronous fetch that finds nothing until the next record is due.
    'a synchronous fetch': () => {
      let next = 0;
      let due = 0;
      return (c) => {
        const now = Date.now();
        if (now < due) return;
        due = now + 50;
        c.collect(next++);
      };
    },
    // Waits (as for I/O), then collects.
    'an async fetch that waits, then collects': () => {
      let next = 0;
      return async (c) => {
        await sleep(50);
        c.collect(next++);
      };
    },
    // Collects, then paces itself.
    'an async fetch that collects, then sleeps': () => {
      let next = 0;
      return async (c) => {
        c.collect(next++);
        await sleep(50);
      };
    },
  };

  for (const [kind, trickle] of Object.entries(trickles)) {
    it(`a trickling source (${kind}) and the task downstream of it are idle`, async () => {
      const ctx = context();
      const fetch = trickle();
      ctx
        .source<number>({ fetch })
        .name('trickle')
        .map((n: number) => n + 1)
        .name('light')
        .disableChain()
        .sink(() => undefined);
      const job = await ctx.submit('load-idle');
      running.push(job);

      await vi.waitFor(
        () => {
          const light = taskOf(job, 'light');
          // A full window of trickle: about 20 records a second.
          expect(light?.recordsIn ?? 0).toBeGreaterThan((WINDOW_MS / 50) * 1.5);
          expect(light?.idleTimeMsPerSecond).toBeGreaterThan(900);
          expect(light?.busyTimeMsPerSecond).toBeLessThan(100);
          expect(light?.recordsInPerSecond).toBeGreaterThan(5);
          expect(light?.recordsInPerSecond).toBeLessThanOrEqual(21);
        },
        { timeout: 60_000, interval: 100 },
      );
      const source = taskOf(job, 'trickle')!;
      expect(source.idleTimeMsPerSecond).toBeGreaterThan(800);
      expect(source.backPressuredTimeMsPerSecond).toBe(0);
    }, 90_000);
  }

  it('an ended task reports no load', async () => {
    const ctx = context();
    ctx.fromValues(1, 2, 3).map((n: number) => n).sink(() => undefined);
    const job = await ctx.submit('load-ended');
    const result = await job.result();
    for (const t of result.tasks) expect(t.busyTimeMsPerSecond).toBeUndefined();
  });
});
