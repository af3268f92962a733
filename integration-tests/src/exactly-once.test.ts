import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, StreamingContext, type MapFunction, type RuntimeContext } from 'mobius';
import { exactlyOnceViolations, type Pair } from './checkpoint-helpers.js';
import { readText, referenceCounts, repoRoot, tempDir } from './helpers.js';


/** Throws once, in the first attempt, after the sink's first checkpoint commit is visible. */
class FailOnceAfterACommit implements MapFunction<string, Pair> {
  private attempt = 0;
  private seen = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.attempt = ctx.attempt;
  }
  map(word: string): Pair {
    if (this.attempt === 0 && ++this.seen % 500 === 0 && existsSync(this.outDir) && readdirSync(this.outDir).some((f) => f.endsWith('.jsonl'))) {
      throw new Error('injected failure after a committed checkpoint');
    }
    return [word, 1];
  }
}

describe('exactly-once with checkpoints, FileSink and a global restart (embedded)', () => {
  const tmp = tempDir('mobius-eo-');
  afterAll(() => tmp.remove());
  // Long enough (about 1.3 M words) for several checkpoints to complete before the failure.
  const corpusPath = join(tmp.dir, 'corpus.txt');
  execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpusPath, String(6_000_000), '11']);
  const reference = referenceCounts(readText(corpusPath));

  it('a task failure restarts from the latest checkpoint; the committed files hold every update exactly once', async () => {
    const out = join(tmp.dir, 'out');
    const ctx = StreamingContext.builder()
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    ctx
      .readTextFile(corpusPath)
      .flatMap((line: string) => line.split(/\s+/).filter((w) => w.length > 0))
      .map(new FailOnceAfterACommit(out))
      .keyBy((p) => p[0])
      .reduce((a, b): Pair => [a[0], a[1] + b[1]])
      .filter((p) => !p[0].includes('ray'))
      .sink(new FileSink<Pair>({ dir: out }));
    const result = await ctx.execute('exactly_once');
    expect(result.state).toBe('FINISHED');
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true); // it did restart
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]); // nothing left in progress

    // reduce emits 1, 2, ..., final for each word: each exactly once, none lost, none twice
    expect(exactlyOnceViolations(out, reference)).toEqual([]);
  });
});
