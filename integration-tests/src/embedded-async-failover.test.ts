import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, StreamingContext, type MapFunction, type RuntimeContext } from 'mobius';
import { exactlyOnceViolations, type Pair } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, tempDir } from './helpers.js';

/**
 * An async map (a lookup service stand-in: every call yields to the event loop, some for several
 * turns, so calls complete out of order) whose promise rejects once: in attempt 0 of subtask 0
 * only, after the sink committed a checkpoint, with calls in flight around it.
 */
class AsyncFailOnce implements MapFunction<string, Promise<Pair>> {
  private failing = false;
  private seen = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.failing = ctx.attempt === 0 && ctx.taskIndex === 0;
  }
  async map(word: string): Promise<Pair> {
    const n = ++this.seen;
    for (let i = n % 3; i > 0; i--) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failing && n % 500 === 0 && existsSync(this.outDir) && readdirSync(this.outDir).some((f) => f.endsWith('.jsonl'))) {
      this.failing = false;
      throw new Error('injected async failure after a committed checkpoint');
    }
    return [word, 1];
  }
}

describe('embedded failover of an async map (calls in flight at every barrier)', () => {
  const tmp = tempDir('mobius-embedded-async-failover-');
  afterAll(() => tmp.remove());
  const corpusPath = join(tmp.dir, 'corpus.txt');
  execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpusPath, String(1_500_000), '29']);
  const reference = referenceCounts(readText(corpusPath));

  async function runJob(name: string, strategy: 'single-task' | 'global', ordered: boolean) {
    const out = join(tmp.dir, `out-${name}`);
    const ctx = StreamingContext.builder()
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 100)
      .option('checkpoint.dir', join(tmp.dir, `checkpoints-${name}`))
      .option('restart.delay.ms', 10)
      .option('failover.strategy', strategy)
      .build();
    ctx
      .readTextFile(corpusPath)
      .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
      .asyncMap(new AsyncFailOnce(out), { ordered, capacity: 64 })
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .filter((p) => !p[0].includes('ray')) // as referenceCounts does
      .sink(new FileSink<Pair>({ dir: out }));
    const job = await ctx.submit(name);
    const result = await job.result();
    return { out, job, result };
  }

  it('the rejected call fails its task, which recovers single-task; the FileSink output is exact', async () => {
    const { out, job, result } = await runJob('single', 'single-task', true);
    expect(result.state).toBe('FINISHED');
    const events = job.events();
    expect(events).toHaveLength(1);
    expect(events[0].strategy).toBe('single-task');
    expect(events[0].failed).toHaveLength(1);
    expect(events[0].failed[0]).toMatch(/#0$/);
    expect(events[0].checkpointId).not.toBeNull();
    expect(result.tasks.filter((t) => t.attempt > 0).map((t) => t.attempt)).toEqual([1]);
    // reduce emits 1, 2, ..., final for each word: each exactly once, none lost, none twice
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });

  it('unordered under failover.strategy global: every task restores, the output is exact', async () => {
    const { out, job, result } = await runJob('global', 'global', false);
    expect(result.state).toBe('FINISHED');
    const events = job.events();
    expect(events).toHaveLength(1);
    expect(events[0].strategy).toBe('global');
    expect(result.tasks.every((t) => t.attempt === 1)).toBe(true);
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });
});
