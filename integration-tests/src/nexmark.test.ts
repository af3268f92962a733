import { describe, expect, it } from 'vitest';
import { StreamingContext } from 'mobius';
import { NEXMARK_QUERIES, NexmarkSource, generateEvents, type NexmarkQueryName } from '@mobius/nexmark';

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
