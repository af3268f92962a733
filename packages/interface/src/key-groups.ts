import type { KeyGroupRange } from './plan.js';
import type { StateKey } from './state.js';
import { murmur3 } from './murmur3.js';

// Different seeds per key type, so that 1 and "1" land in unrelated key groups.
const SEED_STRING = 0x5d1b;
const SEED_NUMBER = 0x2c63;
const SEED_BOOLEAN = 0x71a9;

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (value === undefined) return 'null';
    return JSON.stringify(Object.is(value, -0) ? 0 : value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * Turns any key into a value usable as a Map key and as hash input: strings, finite numbers
 * and booleans as they are; anything else (tuples, objects, null, bigint) as a canonical
 * string, so that equal composite keys are one key.
 */
export function normalizeKey(key: unknown): StateKey {
  switch (typeof key) {
    case 'string':
    case 'boolean':
      return key;
    case 'number':
      return Object.is(key, -0) ? 0 : key;
    default:
      return `\u0000${canonicalJson(key)}`;
  }
}

/** The stable hash of a normalised key. */
export function hashKey(key: StateKey): number {
  if (typeof key === 'string') return murmur3(key, SEED_STRING);
  if (typeof key === 'number') return murmur3(String(key), SEED_NUMBER);
  return murmur3(key ? '1' : '0', SEED_BOOLEAN);
}

/** `keyGroup = hash(key) mod maxParallelism`. */
export function keyGroupOf(key: StateKey, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** The contiguous key groups owned by task `index` of `parallelism` (Flink's assignment). */
export function keyGroupRangeFor(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}

/** The task index that owns a key group. */
export function taskIndexForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}
