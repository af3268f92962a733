import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterCli, startCluster, writeJob, type JobDetails } from './cluster-helpers.js';
import { run, tempDir } from './helpers.js';

const TOTAL = 300_000;
const PAD = 300;

/**
 * A source that emits TOTAL records of ~PAD bytes as fast as it may, into a sink that waits 1 ms
 * every 20 records (at most ~20,000 records/s), as separate tasks (chaining disabled). With one
 * slot per worker they run in two worker processes, so every record crosses ZeroMQ. Both
 * measure their process's live memory (JS heap and buffers after a forced GC) every 10,000
 * records, and write the peak growth over their first measurement next to their results; the
 * source writes when it ended, the sink when it had taken each thousand records.
 */
function fastIntoSlowJob(dir: string, options: Record<string, string | number>): string {
  return `
import { writeFileSync } from 'node:fs';
import { StreamingContext, type SinkFunction, type SourceContext, type SourceFunction } from 'mobius';

/** Live bytes after a full collection: what the process holds, not what it has not yet freed. */
function live(): number {
  // Only workers run this (the coordinator imports the module to plan it, without --expose-gc).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the worker needs --expose-gc');
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const PAD = 'x'.repeat(${PAD});
class Fast implements SourceFunction<string> {
  private i = 0;
  private base = -1;
  private peak = 0;
  fetch(ctx: SourceContext<string>): void {
    if (this.i % 10_000 === 0) this.measure();
    const end = Math.min(${TOTAL}, this.i + 1000);
    for (; this.i < end; this.i++) ctx.collect(this.i + ':' + PAD);
    if (this.i >= ${TOTAL}) {
      ctx.end();
      writeFileSync(${JSON.stringify(dir)} + '/source.json', JSON.stringify({ emitted: this.i, peakGrowth: this.peak, endedAt: Date.now() }));
    }
  }
  private measure(): void {
    const now = live();
    if (this.base < 0) this.base = now;
    this.peak = Math.max(this.peak, now - this.base);
  }
}
class Slow implements SinkFunction<string> {
  private count = 0;
  private sum = 0;
  private base = -1;
  private peak = 0;
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  /** When the sink had taken 1000, 2000, … records. */
  private readonly timeline: number[] = [];
  sink(r: string): void {
    if (this.count % 10_000 === 0) this.measure();
    if (++this.count % 1000 === 0) this.timeline.push(Date.now());
    this.sum += parseInt(r, 10);
    if (this.count % 20 === 0) Atomics.wait(this.cell, 0, 0, 1);
  }
  close(): void {
    writeFileSync(${JSON.stringify(dir)} + '/sink.json', JSON.stringify({ count: this.count, sum: this.sum, peakGrowth: this.peak, timeline: this.timeline }));
  }
  private measure(): void {
    const now = live();
    if (this.base < 0) this.base = now;
    this.peak = Math.max(this.peak, now - this.base);
  }
}
const builder = StreamingContext.builder();
for (const [k, v] of Object.entries(${JSON.stringify(options)})) builder.option(k, v);
const ctx = builder.build();
ctx.source(new Fast()).setParallelism(1).sink(new Slow()).setParallelism(1).disableChain();
await ctx.execute('fast_into_slow');
`;
}

describe('backpressure across two worker processes', () => {
  const tmp = tempDir('mobius-cluster-bp-');
  afterAll(() => tmp.remove());

  it(
    "a fast source feeding a slow sink on another worker: records in flight stay under credits × batch, each worker's live memory under its bound, and every record arrives",
    async () => {
      // Not a liveness test: the sink blocks its thread 1 ms at a time on a loaded machine (a
      // busy task loop can delay heartbeats for seconds: issue 17 item 9, another part).
      const cluster = await startCluster(2, { slots: 1, heartbeatTimeoutMs: 60_000, workerEnv: { NODE_OPTIONS: '--expose-gc' } });
      try {
        // The bounds under test: 8 credits of frames of at most 1024 records per channel, and a
        // replay buffer of at most 8 MiB (no checkpoint ever trims it here).
        const options = { 'runtime.channel.credits': 8, 'runtime.batch.size': 1024, 'failover.replay.max-bytes': 8 * 1024 * 1024 };
        const file = writeJob('fast-into-slow.ts', fastIntoSlowJob(tmp.dir, options));
        const submit = await run(process.execPath, [clusterCli, 'submit', file, '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 300_000 });
        expect(submit.stderr, cluster.workers.map((w) => `worker ${w.child.pid}: ${w.stderr.slice(-1500)}`).join('\n')).toBe('');
        expect(submit.code).toBe(0);

        // Every record, once.
        const sink = JSON.parse(readFileSync(join(tmp.dir, 'sink.json'), 'utf8')) as { count: number; sum: number; peakGrowth: number; timeline: number[] };
        const source = JSON.parse(readFileSync(join(tmp.dir, 'source.json'), 'utf8')) as { emitted: number; peakGrowth: number; endedAt: number };
        expect({ count: sink.count, sum: sink.sum }).toEqual({ count: TOTAL, sum: (TOTAL * (TOTAL - 1)) / 2 });
        expect(source.emitted).toBe(TOTAL);

        // The two tasks ran on different workers: the channel crossed processes.
        const details = (await cluster.api.call<JobDetails>('GET', `/jobs/${submit.stdout.trim()}`)).body;
        expect(details.tasks).toHaveLength(2);
        expect(details.tasks[0].workerId).not.toBe(details.tasks[1].workerId);

        // Records in flight: what the source had emitted when it ended, minus what the sink had
        // taken by then (one clock: both workers are on this machine). The channel holds at most
        // 8 credits × 1024 records, the source one more batch being filled; 20,000 leaves slack
        // for frames in the sockets. Without credits the source, many times faster than the sink,
        // ends with nearly all 300,000 records still ahead of it: in the sink worker's ZeroMQ
        // queue, outside the JS heap, where the live-memory figures below cannot see them.
        const takenWhenSourceEnded = sink.timeline.filter((t) => t <= source.endedAt).length * 1000;
        const inFlight = TOTAL - takenWhenSourceEnded;
        // ~90 MB of records (twice that as JS strings) went through; the JS heap and buffers of
        // each worker hold at most the in-flight frames (~6 MB decoded), the 8 MiB replay buffer
        // and the runtime's working set.
        const bound = 24 * 1024 * 1024;
        console.log(
          `cluster backpressure: ${inFlight} records in flight when the source ended (bound 20000); ` +
            `live memory growth source ${(source.peakGrowth / 1048576).toFixed(1)} MiB, sink ${(sink.peakGrowth / 1048576).toFixed(1)} MiB (bound ${bound / 1048576} MiB)`,
        );
        expect(inFlight).toBeLessThan(20_000);
        expect(sink.peakGrowth).toBeLessThan(bound);
        expect(source.peakGrowth).toBeLessThan(bound);
      } finally {
        await cluster.stop();
      }
    },
    360_000,
  );
});
