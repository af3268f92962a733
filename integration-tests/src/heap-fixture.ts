import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot, run } from './helpers.js';

/** What `fixtures/heap-sampler.mjs` measures: every heap fixture's report carries it. */
export interface HeapReport {
  readonly baselineHeap: number;
  readonly peakHeapGrowth: number;
  readonly finalHeapGrowth: number;
  readonly peakRss: number;
  readonly samples: number;
  readonly seconds: number;
}

/** The report of a fixture over `fixtures/sampled-keys.mjs`: its input, and the checker's counters. */
export interface SampledKeysReport {
  readonly keys: number;
  readonly secondPass: number;
  readonly backend: string;
  readonly cacheEntries: number;
  readonly state: string;
  readonly records: number;
  readonly ones: number;
  readonly twos: number;
  readonly other: number;
  readonly valueSum: number;
  readonly oneIndexSum: number;
  readonly twoIndexSum: number;
  readonly twoNotSampled: number;
  readonly twoDuplicates: number;
  readonly twoBeforeOne: number;
}

/**
 * Runs heap fixture `fixtures/<name>` in a child `node --expose-gc` (plus `nodeArgs`) with `args`,
 * expects a clean exit with nothing on stderr, and returns the JSON report it prints last.
 */
export async function runHeapFixture<R>(
  name: string,
  args: readonly (string | number)[],
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<R & HeapReport> {
  const result = await run(process.execPath, ['--expose-gc', ...(options.nodeArgs ?? []), join(repoRoot, 'integration-tests/fixtures', name), ...args.map(String)], {
    timeoutMs: 300_000,
    env: { MOBIUS_LOG_LEVEL: 'warn', ...options.env },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as R & HeapReport;
}
