import type { StateKey } from '@mobius/interface';

/**
 * The user's key back from its normalised form (`normalizeKey`): strings, numbers and booleans
 * are themselves; a composite key (tuple, object, null) was kept as canonical JSON behind a NUL
 * and comes back as the equal plain value (a Date as its ISO string).
 */
export function userKey(key: StateKey): unknown {
  if (typeof key !== 'string' || key.charCodeAt(0) !== 0) return key;
  try {
    return JSON.parse(key.slice(1)) as unknown;
  } catch {
    return key.slice(1); // a bigint key ("12n") is not JSON: its canonical text
  }
}
