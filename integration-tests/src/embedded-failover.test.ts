import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MapFunction, RuntimeContext } from 'mobius';
import { exactlyOnceViolations, type Pair } from './checkpoint-helpers.js';
import { hasCommittedFiles, runFailoverWordCount } from './embedded-failover-job.js';
import { readText, referenceCounts, repoRoot, tempDir } from './helpers.js';

/**
 * Throws once: in attempt 0 of subtask 0 only, after the sink committed a checkpoint (so the
 * recovery restores a real checkpoint, with records in flight on every channel).
 */
class FailOnceInSubtaskZero implements MapFunction<string, Pair> {
  private failing = false;
  private seen = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.failing = ctx.attempt === 0 && ctx.taskIndex === 0;
  }
  map(word: string): Pair {
    if (this.failing && ++this.seen % 500 === 0 && hasCommittedFiles(this.outDir)) {
      this.failing = false;
      throw new Error('injected failure after a committed checkpoint');
    }
    return [word, 1];
  }
}

describe('embedded failover (job master with the in-process gateway)', () => {
  const tmp = tempDir('mobius-embedded-failover-');
  afterAll(() => tmp.remove());
  // About 1.3 M words: several checkpoints complete before the failure.
  const corpusPath = join(tmp.dir, 'corpus.txt');
  execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpusPath, String(6_000_000), '23']);
  const reference = referenceCounts(readText(corpusPath));

  const runJob = (name: string, strategy: 'single-task' | 'global') =>
    runFailoverWordCount(tmp.dir, corpusPath, name, strategy, (words, out) => words.map(new FailOnceInSubtaskZero(out)));

  it('a task error recovers single-task: only the failed task restarts, the FileSink output is exact', async () => {
    const { out, job, result } = await runJob('single', 'single-task');
    expect(result.state).toBe('FINISHED');
    const events = job.events();
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event.kind).toBe('recovery');
    expect(event.strategy).toBe('single-task');
    expect(event.failed).toHaveLength(1);
    expect(event.failed[0]).toMatch(/#0$/);
    expect(event.tasks).toEqual(event.failed);
    expect(event.checkpointId).not.toBeNull();
    expect(event.durationMs).toBeGreaterThanOrEqual(0);
    // Only the failed task ran a second attempt.
    const restarted = result.tasks.filter((t) => t.attempt > 0);
    expect(restarted.map((t) => t.attempt)).toEqual([1]);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    // reduce emits 1, 2, ..., final for each word: each exactly once, none lost, none twice
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });

  it('with failover.strategy global the same job restores every task, also exactly once', async () => {
    const { out, job, result } = await runJob('global', 'global');
    expect(result.state).toBe('FINISHED');
    const events = job.events();
    expect(events).toHaveLength(1);
    expect(events[0].strategy).toBe('global');
    expect(events[0].failed).toHaveLength(1);
    expect(events[0].tasks).toHaveLength(result.tasks.length);
    expect(result.tasks.every((t) => t.attempt === 1)).toBe(true);
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });
});
