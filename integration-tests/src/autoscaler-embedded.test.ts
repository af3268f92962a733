import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamingContext } from 'mobius';
import { PacedFeed, SCENARIO, driveScenario, scenarioOptions, settled, type EmbeddedJob, type ScenarioReport } from './autoscaler-scenario.js';
import { mobiusCli, repoRoot, run, tempDir } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The assertions on a run of the scenario, with `high` and `low` the demands (records/s)
 * the source was given: robust ones only (decision counts, parallelisms, no change while the
 * rate holds, one scale-down), the figures checked against the demand the test chose. With
 * `steadyAtTwo` false, the figures at parallelism 2 are not checked (see the task threads test).
 */
function expectScenario(r: ScenarioReport, high: number, low: number, steadyAtTwo = true): void {
  const { target, boundary, maxParallelism, scaleDownDelayMs, steady } = SCENARIO;
  expect(r.events.filter((e) => e.outcome === 'failed')).toEqual([]);
  const evaluations = r.events.filter((e) => e.outcome === undefined);
  const taken = evaluations.filter((e) => e.taken);
  const ups = taken.filter((e) => e.time < r.droppedAt);
  const downs = taken.filter((e) => e.time >= r.droppedAt);

  // Up: one task could not keep up; at most three decisions took the map to 2 and only the map.
  expect(ups.length).toBeGreaterThanOrEqual(1);
  expect(ups.length).toBeLessThanOrEqual(3);
  for (const e of taken) for (const d of e.decisions) expect(d.vertex).toBe(r.map);
  expect(ups.at(-1)!.decisions.at(-1)!.to).toBe(maxParallelism);
  expect(ups[0].rates[r.map].busy).toBeGreaterThan(target + boundary);
  expect(r.rescales.every((e) => e.trigger === 'autoscaler' && e.vertex === r.map)).toBe(true);
  // While the rate holds: no change, busy near the target, the source keeps up with its demand.
  const steadyUp = settled(evaluations, r.raisedAt).filter((e) => e.time < r.droppedAt);
  expect(steadyUp.length).toBeGreaterThanOrEqual(steady);
  expect(steadyUp.every((e) => !e.taken && e.rates[r.map].parallelism === maxParallelism)).toBe(true);
  if (steadyAtTwo) {
    const atTwo = steadyUp.at(-1)!.rates;
    expect(atTwo[r.map].busy).toBeGreaterThan(target - 2 * boundary);
    expect(atTwo[r.map].busy).toBeLessThan(target + 2 * boundary);
    expect(atTwo[r.source].inputRate).toBeGreaterThan(0.85 * high);
  }

  // Down: exactly one decision, 2 → 1, not before the delay, and nothing after it.
  expect(downs).toHaveLength(1);
  expect(downs[0].decisions).toEqual([expect.objectContaining({ vertex: r.map, from: maxParallelism, to: 1 })]);
  expect(downs[0].time - r.droppedAt).toBeGreaterThanOrEqual(scaleDownDelayMs);
  const steadyDown = settled(evaluations, r.loweredAt);
  expect(steadyDown.length).toBeGreaterThanOrEqual(steady);
  expect(steadyDown.every((e) => !e.taken && e.rates[r.map].parallelism === 1)).toBe(true);
  // One task keeps up with the lower rate: records flow at the demand.
  expect(steadyDown.at(-1)!.rates[r.source].inputRate).toBeGreaterThan(0.85 * low);
  expect(steadyDown.at(-1)!.rates[r.map].inputRate).toBeGreaterThan(0.85 * low);
  expect(r.rescales).toHaveLength(ups.length + 1);
}

// The slow map's cost per record on the calling thread: a wait, not a spin. Embedded live
// rescaling with every task on the calling thread (execution.threads 0) adds no CPU with more
// tasks, so the map waits as a map calling a slow service does; its busy time counts the wait.
const COST_MS = 8;

/** Records per second one task of the waiting map takes here and now: measured, not assumed. */
async function calibrateWait(): Promise<number> {
  const n = 40;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await sleep(COST_MS);
  return (1000 * n) / (performance.now() - t0);
}

describe('the autoscaler in embedded mode', () => {
  const tmp = tempDir('mobius-autoscaler-');
  afterAll(() => tmp.remove());

  it('raises a slow map that one task cannot keep up with to 2 in at most three decisions, holds it while the rate holds, and scales down once after the delay when it drops (tasks on the calling thread)', { timeout: 240_000 }, async () => {
    const perTask = await calibrateWait();
    const high = SCENARIO.high * perTask;
    const low = SCENARIO.low * perTask;
    let rate = high;
    const feed = new PacedFeed(() => rate);
    const ctx = scenarioOptions(StreamingContext.builder().option('execution.threads', 0), tmp.dir).build();
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
      const report = await driveScenario(job, { drop: () => (rate = low) });
      expectScenario(report, high, low);
      // The producer's backlog drained: under half a second of records behind.
      expect(feed.backlog()).toBeLessThan(0.5 * low);
    } finally {
      await job.cancel();
    }
  });

  // On task threads the figures at parallelism 2 are not steady enough on a busy 2-core machine to
  // say "busy near the target" within the few evaluations the test waits: a rescale there pauses
  // the map for seconds (new threads' tasks start), after which it drains more than the source's
  // rate for a while, and what each task takes moves with what else the machine runs. The raise,
  // the hold, the one lowering and the figures at parallelism 1 are checked as above.
  it('the same on two task threads, with a map whose every record holds its thread (1 ms of CPU, 19 ms blocked)', { timeout: 240_000 }, async () => {
    const [spinUs, blockUs] = [1000, 19_000];
    const dir = tempDir('mobius-autoscaler-threads-');
    try {
      const job = join(repoRoot, 'integration-tests/fixtures/autoscaler-job.ts');
      const r = await run(process.execPath, [mobiusCli, 'run', job, dir.dir, String(spinUs), String(blockUs)], { timeoutMs: 200_000 });
      if (r.code !== 0) throw new Error(`mobius run exited ${r.code}: ${r.stderr}`);
      const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ScenarioReport & { readonly high: number; readonly low: number; readonly flood: number };
      // The source started at twice what one task could ever take, then ran at 1.3 and 0.4 times what one task took.
      expect(report.flood).toBe(2 * (1e6 / (spinUs + blockUs)));
      expect(report.high).toBeLessThan(report.flood);
      expect(report.low / report.high).toBeCloseTo(SCENARIO.low / SCENARIO.high);
      expectScenario(report, report.high, report.low, false);
    } finally {
      dir.remove();
    }
  });
});
