import { join } from 'node:path';
import { expect } from 'vitest';
import type { Api } from './cluster-helpers.js';
import { clusterCli, writeJob } from './cluster-helpers.js';
import { job, pacedWordCountJob, until } from './failover-helpers.js';
import { run } from './helpers.js';

/** A rescale event as `GET /jobs/:id/events` lists it. */
export interface RescaleEventBody {
  kind: 'rescale';
  id: string;
  operator: string;
  vertex: string;
  from: number;
  to: number;
  trigger: 'user' | 'autoscaler';
  checkpointId: number;
  durationMs: number;
  pausedMs: number;
  keyGroupsMoved: number;
  bytesMoved: number;
  failed?: string;
}

/**
 * Submits the paced word count (failover-helpers' `pacedWordCountJob`: two paced sources, the
 * reduce at 2, the exactly-once FileSink at 1) with checkpoints every 200 ms; it stays paced
 * until `released` exists.
 */
export async function startPacedJob(cluster: { url: string; token: string }, dir: string, corpus: string, name: string, extra: Record<string, string | number | boolean>): Promise<{ id: string; out: string; released: string }> {
  const out = join(dir, `out-${name}`);
  const released = join(dir, `released-${name}`);
  const options = { 'checkpoint.interval.ms': 200, 'checkpoint.dir': join(dir, `ckpt-${name}`), 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 20, 'restart.delay.ms': 50, ...extra };
  const file = writeJob(`${name}.ts`, pacedWordCountJob(corpus, out, options, { lines: 8, everyMs: 10, until: released }));
  const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
  expect(submit.stderr).toBe('');
  expect(submit.code).toBe(0);
  return { id: submit.stdout.trim(), out, released };
}

/** Waits for the rescale's event (done or failed) on the job's event log. */
export function rescaleEvent(api: Api, jobId: string, rescaleId: string, timeoutMs = 120_000): Promise<RescaleEventBody> {
  return until(
    `rescale ${rescaleId}`,
    async () => {
      const list = (await api.call<{ kind: string; id?: string }[]>('GET', `/jobs/${jobId}/events`)).body;
      return list.find((e) => e.kind === 'rescale' && e.id === rescaleId) as RescaleEventBody | undefined;
    },
    timeoutMs,
  );
}

interface Sample {
  readonly time: number;
  readonly attempt: number;
  readonly records: number;
}

/**
 * Polls `GET /jobs/:id` and keeps, per task, its attempt and records-processed count over time:
 * whether a count went backwards within an attempt, and the longest time it stood still.
 */
export class LoadSampler {
  private readonly samples = new Map<string, Sample[]>();
  private running = false;
  stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: Api,
    private readonly jobId: string,
    private readonly everyMs = 50,
  ) {}

  start(): void {
    this.running = true;
    this.stopped = (async () => {
      while (this.running) {
        const details = await job(this.api, this.jobId);
        const time = Date.now();
        for (const t of details.tasks) {
          const list = this.samples.get(t.taskId) ?? [];
          list.push({ time, attempt: t.attempt, records: t.recordsProcessed });
          this.samples.set(t.taskId, list);
        }
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    })();
  }

  stop(): void {
    this.running = false;
  }

  /** Drops of the count (as `from → to` strings), and the longest time between two changes of it. */
  progressOf(taskId: string): { backwards: string[]; longestStallMs: number } {
    const list = this.samples.get(taskId) ?? [];
    const backwards: string[] = [];
    let longest = 0;
    let changedAt = list[0]?.time ?? 0;
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1], list[i]];
      if (b.records < a.records) backwards.push(`${a.records} → ${b.records} (attempt ${a.attempt} → ${b.attempt})`);
      if (b.records !== a.records) changedAt = b.time;
      longest = Math.max(longest, b.time - changedAt);
    }
    return { backwards, longestStallMs: longest };
  }
}
