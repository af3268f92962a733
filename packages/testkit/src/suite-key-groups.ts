import type { KeyGroupRange, StateKey } from '@mobius/interface';

/** A stable key-group hash for the suite's scopes (FNV-1a over a typed encoding of the key). */
export function suiteKeyGroupOf(key: StateKey, maxParallelism: number): number {
  const text = `${typeof key}:${String(key)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % maxParallelism;
}

/** The key groups task `index` of `parallelism` owns (as the planner splits them). */
export function suiteKeyGroupRange(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  return {
    start: Math.floor((index * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((index + 1) * maxParallelism - 1) / parallelism),
  };
}
