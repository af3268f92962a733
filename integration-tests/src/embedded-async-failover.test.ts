import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MapFunction, RuntimeContext } from 'mobius';
import { exactlyOnceViolations, type Pair } from './checkpoint-helpers.js';
import { hasCommittedFiles, runFailoverWordCount } from './embedded-failover-job.js';
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
    if (this.failing && n % 500 === 0 && hasCommittedFiles(this.outDir)) {
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

  const runJob = (name: string, strategy: 'single-task' | 'global', ordered: boolean) =>
    runFailoverWordCount(tmp.dir, corpusPath, name, strategy, (words, out) => words.asyncMap(new AsyncFailOnce(out), { ordered, capacity: 64 }));

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
