import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, StreamingContext, type MapFunction, type RuntimeContext } from 'mobius';
import { NEXMARK_QUERIES, NexmarkSource, generateEvents, q3, referenceQ3, type NexmarkQueryName, type Q3Row } from '@mobius/nexmark';
import { tempDir } from './helpers.js';

/** Order-free comparison: results of parallel tasks interleave in any order. */
const sorted = <T>(rows: readonly T[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

const context = (parallelism: number): StreamingContext => StreamingContext.builder().option('parallelism.default', parallelism).build();

describe('Nexmark in embedded mode', () => {
  it('the source gives the same events at parallelism 1 and 2, those of the plain generator', async () => {
    const config = { count: 4000, seed: 11, outOfOrderGroupSize: 5, batchSize: 256 };
    const expected = sorted(generateEvents(config));
    for (const parallelism of [1, 2]) {
      const got = await context(parallelism).source(new NexmarkSource(config)).executeAndCollect(`nexmark-source-p${parallelism}`);
      expect(got.length).toBe(4000);
      expect(sorted(got)).toEqual(expected);
    }
  }, 120_000);

  const config = { count: 10_000, seed: 7 };
  const events = generateEvents(config);
  for (const name of Object.keys(NEXMARK_QUERIES) as NexmarkQueryName[]) {
    for (const parallelism of [1, 2]) {
      it(`${name} at parallelism ${parallelism} equals its reference on ${config.count} events`, async () => {
        const query = NEXMARK_QUERIES[name];
        const expected = query.reference(events);
        expect(expected.length).toBeGreaterThan(0);
        const got = await query.build(context(parallelism), config).executeAndCollect(`nexmark-${name}-p${parallelism}`);
        expect(sorted(got)).toEqual(sorted(expected));
      }, 120_000);
    }
  }
});

/** Throws once, in the first attempt, at the first row after the sink committed a checkpoint. */
class FailOnceAfterACommit implements MapFunction<Q3Row, Q3Row> {
  private attempt = 0;
  constructor(private readonly outDir: string) {}
  open(ctx: RuntimeContext): void {
    this.attempt = ctx.attempt;
  }
  map(row: Q3Row): Q3Row {
    if (this.attempt === 0 && existsSync(this.outDir) && readdirSync(this.outDir).some((f) => !f.startsWith('.'))) {
      throw new Error('injected failure after a committed checkpoint');
    }
    return row;
  }
}

describe('Nexmark q3 with checkpoints and a failure (embedded)', () => {
  const tmp = tempDir('mobius-nexmark-');
  afterAll(() => tmp.remove());

  it('restores the source positions and the join state: every row exactly once', async () => {
    // Long enough (a few seconds) for checkpoints to complete and be committed before the end.
    const config = { count: 600_000, seed: 3, batchSize: 500 };
    const out = join(tmp.dir, 'out');
    const ctx = StreamingContext.builder()
      .option('parallelism.default', 2)
      .option('checkpoint.interval.ms', 50)
      .option('checkpoint.dir', join(tmp.dir, 'checkpoints'))
      .option('restart.strategy', 'fixed-delay')
      .option('restart.delay.ms', 10)
      .build();
    q3(ctx, config).map(new FailOnceAfterACommit(out)).sink(new FileSink<Q3Row>({ dir: out }));
    const result = await ctx.execute('nexmark_q3_failover');
    expect(result.state).toBe('FINISHED');
    expect(result.tasks.some((t) => t.attempt > 0)).toBe(true); // it did fail and recover
    const rows = readdirSync(out)
      .filter((f) => !f.startsWith('.'))
      .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== ''))
      .map((l) => JSON.parse(l) as Q3Row);
    expect(sorted(rows)).toEqual(sorted(referenceQ3(generateEvents(config))));
  }, 180_000);
});
