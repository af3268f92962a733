import type { AggregateFunction } from '@mobius/api';

/** COUNT(*) as a window aggregate: one number per window instead of the window's records. */
export const COUNT_AGGREGATE: AggregateFunction<unknown, number, number> = Object.freeze({
  createAccumulator: (): number => 0,
  add: (_value: unknown, count: number): number => count + 1,
  getResult: (count: number): number => count,
  // Session windows merge: the counts of the merged windows add up.
  merge: (a: number, b: number): number => a + b,
});
