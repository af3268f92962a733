import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { committedRows, windowCountViolations } from './checkpoint-helpers.js';
import { run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';
import { events, finishedRecovery, firstCommit, job, releasePace, runningJob, until } from './failover-helpers.js';

/*
 * Issue 11 on the cluster: an event-time windowed count (tumbling 1 s windows per user, out of
 * order within 400 ms, watermarks bounded by 500 ms, so nothing is late) into the exactly-once
 * FileSink, with two workers SIGKILLed one after the other under single-task failover, and the
 * same job on the LevelDB state backend. The expected windows are computed here from the same
 * event formula, not by the engine; every (user, window) must be committed exactly once.
 */
const EVENTS = 24_000;
/** Events from this index on wait for the release: the job cannot end before both kills. */
const HELD_FROM = EVENTS - 1_000;
const USERS = 37;

/** Event i of the stream (the job's source has the same formula). */
function event(i: number): { user: string; time: number } {
  return { user: `u${(i * 7919) % USERS}`, time: 1_700_000_000_000 + i * 5 + ((i * 104_729) % 400) };
}

function reference(): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < EVENTS; i++) {
    const e = event(i);
    const start = e.time - (e.time % 1_000);
    const k = `${e.user}@${start}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function windowJob(out: string, options: Record<string, string | number>, releaseFile: string, windowParallelism = 2): string {
  return `
import { existsSync } from 'node:fs';
import { FileSink, StreamingContext, TumblingEventTimeWindows, WatermarkStrategy, type SourceContext, type SourceFunction } from 'mobius';

interface Click { user: string; time: number }

/**
 * Events i of this task (i % parallelism === index), 20 every 10 ms until the release file
 * exists; before it, none from ${HELD_FROM} on.
 */
class Clicks implements SourceFunction<Click> {
  private next = 0;
  private step = 1;
  init(parallelism: number, index: number): void {
    if (this.next === 0) this.next = index;
    this.step = parallelism;
  }
  async fetch(ctx: SourceContext<Click>): Promise<void> {
    if (this.next >= ${EVENTS}) {
      ctx.end();
      return;
    }
    const released = existsSync(${JSON.stringify(releaseFile)});
    const stop = released ? ${EVENTS} : ${HELD_FROM};
    for (let n = 0; n < (released ? 500 : 20) && this.next < stop; n++, this.next += this.step) {
      const i = this.next;
      ctx.collect({ user: 'u' + ((i * 7919) % ${USERS}), time: 1_700_000_000_000 + i * 5 + ((i * 104_729) % 400) });
    }
    if (!released) await new Promise((r) => setTimeout(r, 10));
  }
  snapshotState(): number {
    return this.next;
  }
  restoreState(next: unknown): void {
    this.next = next as number;
  }
}

const builder = StreamingContext.builder();
for (const [k, v] of Object.entries(${JSON.stringify(options)})) builder.option(k, v);
const ctx = builder.build();
ctx
  .source(new Clicks())
  .setParallelism(2)
  .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(500).withTimestampAssigner((c) => c.time))
  .keyBy((c) => c.user)
  .window(TumblingEventTimeWindows.of(1_000))
  .aggregate(
    { createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n, merge: (a: number, b: number) => a + b },
    (user: string, window: { start: number; end: number }, counts: Iterable<number>, out: { collect(r: [string, number, number]): void }) => {
      for (const n of counts) out.collect([user, window.start, n]);
    },
  )
  .setParallelism(${windowParallelism})
  .sink(new FileSink<[string, number, number]>({ dir: ${JSON.stringify(out)} }))
  .setParallelism(1);
await ctx.execute('cluster_windows');
`;
}

function expectExactWindows(dir: string, expected: Map<string, number>): void {
  const rows = committedRows<[string, number, number]>(dir);
  const wrong = windowCountViolations(rows, expected);
  expect(wrong.slice(0, 10), `${wrong.length} windows wrong`).toEqual([]);
  expect(new Set(rows.map(([user, start]) => `${user}@${start}`)).size).toBe(expected.size);
}

describe('event-time windows on the cluster', () => {
  const tmp = tempDir('mobius-cluster-windows-');
  const expected = reference();
  afterAll(() => tmp.remove());

  for (const backend of ['memory', 'level'] as const) {
    it(`a windowed count survives two workers SIGKILLed one after the other, each recovered single-task, exactly once (${backend} state)`, async () => {
      const cluster = await startCluster(2);
      try {
        const out = join(tmp.dir, `out-${backend}`);
        const release = join(tmp.dir, `release-${backend}`);
        const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(tmp.dir, `ckpt-${backend}`), 'failover.strategy': 'single-task', 'state.backend': backend };
        const file = writeJob(`windows-${backend}.ts`, windowJob(out, options, release));
        const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
        expect(submit.code, submit.stderr).toBe(0);
        const id = submit.stdout.trim();
        await firstCommit(out);

        // Each round: a fresh worker joins, one that runs tasks is killed, the recovery ends,
        // and a checkpoint completes after it (a failure before one would be recovered globally).
        for (const round of [0, 1]) {
          const before = await runningJob(cluster.api, id, `before kill ${round + 1}`);
          const alive = (await cluster.api.workers()).length;
          cluster.startWorker();
          // The fresh worker must be there before the kill: a recovery that finds no free slot
          // in time (a slow start on a loaded machine) puts the lost tasks beside the others on
          // the survivor, and the next kill then takes every task (a global recovery).
          await until('the fresh worker registered', async () => ((await cluster.api.workers()).length > alive ? true : undefined), 60_000);
          const victim = before.tasks.find((t) => t.state === 'RUNNING')!.workerId;
          const workers = await cluster.api.workers();
          process.kill(workers.find((w) => w.id === victim)!.pid, 'SIGKILL');
          await finishedRecovery(cluster.api, id, round, `recovery ${round + 1}`, 120_000);
          const after = await job(cluster.api, id);
          await until(`a checkpoint after recovery ${round + 1}`, async () => {
            const j = await runningJob(cluster.api, id, `after recovery ${round + 1}`);
            return j.lastCheckpoint !== null && j.lastCheckpoint > (after.lastCheckpoint ?? 0) ? true : undefined;
          }, 60_000);
        }
        // Event-time figures per task while running (held until the release): the window tasks report their watermark.
        const running = (await cluster.api.call<{ state: string; tasks: { vertex: string; currentWatermark: number | null; timersPending: number }[] }>('GET', `/jobs/${id}`)).body;
        expect(running.state).toBe('RUNNING');
        const windows = running.tasks.filter((t) => t.vertex.startsWith('window'));
        expect(windows.length).toBe(2);
        expect(windows.some((t) => typeof t.currentWatermark === 'number' && t.currentWatermark > 1_700_000_000_000), JSON.stringify(windows)).toBe(true);
        releasePace(release);
        const done = await cluster.api.waitForJob(id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
        expect(done.error).toBeNull();
        expect(done.state).toBe('FINISHED');
        const recoveries = await events(cluster.api, id);
        expect(recoveries.length, JSON.stringify(recoveries)).toBe(2);
        expect(recoveries.filter((e) => e.strategy !== 'single-task'), 'recoveries that were not single-task').toEqual([]);
        expectExactWindows(out, expected);
      } finally {
        await cluster.stop();
      }
    }, 360_000);
  }

  // With 'level', the timers are in LevelDB (StateTimerService) and move with their key groups' data.
  for (const backend of ['memory', 'level'] as const) {
    it(`a savepoint taken at window parallelism 2 restores at parallelism 3: window contents and timers move by key group, every window exactly once (${backend} state)`, async () => {
      // Not a liveness test: a generous heartbeat timeout keeps a loaded machine from failing the job.
      const cluster = await startCluster(3, { heartbeatTimeoutMs: 10_000 });
      try {
        const out = join(tmp.dir, `out-rescale-${backend}`);
        const release = join(tmp.dir, `release-rescale-${backend}`);
        const options = { 'checkpoint.dir': join(tmp.dir, `ckpt-rescale-${backend}`), 'state.backend': backend };
        const first = writeJob(`windows-p2-${backend}.ts`, windowJob(out, options, release, 2));
        const submit = await run(process.execPath, [clusterCli, 'submit', first, '--url', cluster.url, '--token', cluster.token]);
        expect(submit.code, submit.stderr).toBe(0);
        const id = submit.stdout.trim();
        // Some windows are open (records in, not yet fired) when the savepoint is taken.
        await until('records in the window tasks', async () => {
          const j = await job(cluster.api, id);
          return j.tasks.filter((t) => t.vertex.startsWith('window')).every((t) => t.recordsProcessed > 500) ? true : undefined;
        });
        const stop = await run(process.execPath, [clusterCli, 'stop', id, '--savepoint', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 60_000 });
        expect(stop.code, stop.stderr).toBe(0);
        const savepoint = stop.stdout.trim();
        expect(savepoint).toMatch(/chk-\d+$/);
        await cluster.api.waitForJob(id, (j) => j.state === 'CANCELED', 30_000);
        releasePace(release);
        const second = writeJob(`windows-p3-${backend}.ts`, windowJob(out, options, release, 3));
        const resumed = await run(process.execPath, [clusterCli, 'submit', second, '--wait', '--from-savepoint', savepoint, '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
        expect(resumed.stderr).toBe('');
        expect(resumed.code).toBe(0);
        const details = await job(cluster.api, resumed.stdout.trim());
        expect(details.tasks.filter((t) => t.vertex.startsWith('window')).map((t) => t.index).sort()).toEqual([0, 1, 2]);
        expectExactWindows(out, expected);
      } finally {
        await cluster.stop();
      }
    }, 360_000);
  }
});

