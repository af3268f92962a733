import { describe, expect, it } from 'vitest';
import { StreamingContext } from '@mobius/api';
import { ConfigError } from '@mobius/interface';
import type { NexmarkConfig } from '../generator-config.js';
import { NEXMARK_QUERIES, type NexmarkQueryName } from './nexmark-queries.js';

const names = Object.keys(NEXMARK_QUERIES) as NexmarkQueryName[];

function configErrorOf(name: NexmarkQueryName, config: NexmarkConfig): ConfigError {
  try {
    NEXMARK_QUERIES[name].build(StreamingContext.builder().build(), config);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`${name} accepted ${JSON.stringify(config)}`);
}

describe('NEXMARK_QUERIES', () => {
  it('lists every query of issue 11, each with its reference', () => {
    expect(names).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q11']);
    for (const name of names) expect(typeof NEXMARK_QUERIES[name].reference).toBe('function');
  });

  it('only q4 is a changelog, keyed by category', () => {
    expect(names.filter((n) => (NEXMARK_QUERIES[n] as { upsertKey?: unknown }).upsertKey !== undefined)).toEqual(['q4']);
    expect(NEXMARK_QUERIES.q4.upsertKey?.({ category: 12, avgFinal: 3 })).toBe(12);
  });

  for (const name of names) {
    it(`${name} rejects a bad configuration when the job is built, naming the option`, () => {
      const bad = configErrorOf(name, { eventsPerSecond: 0 });
      expect(bad.code).toBe('CONFIG_INVALID_VALUE');
      expect(bad.message).toContain('eventsPerSecond');
      const unknown = configErrorOf(name, { eventPerSecond: 10 } as NexmarkConfig);
      expect(unknown.code).toBe('CONFIG_UNKNOWN_KEY');
      expect(unknown.message).toContain('eventPerSecond');
    });
  }
});
