import type { StateKey } from '@mobius/interface';
import { keyGroupOf } from '@mobius/interface';

/**
 * Operator (non-keyed) state lives in the task's state backend like keyed state, under a
 * reserved key per task: `PREFIX + g`, where g is the first key group the task owns. Its key
 * group is g itself, so snapshots split and restore it like any keyed value: each task keeps
 * its own on a restore, and after a rescale the list of an old task goes to the new task that
 * owns that key group (which merges every such list into its own when it opens).
 */
export const OPERATOR_STATE_KEY_PREFIX = '\u0001mobius:operator-state#';

/** Prefix of the store names of operator state (user state names may not start with it). */
export const OPERATOR_STATE_NAME_PREFIX = '\u0001op:';

export function operatorStateKey(keyGroup: number): string {
  return OPERATOR_STATE_KEY_PREFIX + keyGroup;
}

/**
 * A reserved key placed in key group `keyGroup` whatever `rest` is: state the runtime keeps
 * per key group rather than per user key (the timer index of a {@link StateTimerService}), so
 * snapshots split it, and restores and rescaling move it, with that key group.
 */
export function keyGroupKey(keyGroup: number, rest: string): string {
  return `${OPERATOR_STATE_KEY_PREFIX}${keyGroup}/${rest}`;
}

/** The key-group function of a task's state: the stable hash, and the reserved keys (operator state, `keyGroupKey`). */
export function stateKeyGroupOf(maxParallelism: number): (key: StateKey) => number {
  const prefixLength = OPERATOR_STATE_KEY_PREFIX.length;
  return (key) =>
    typeof key === 'string' && key.startsWith(OPERATOR_STATE_KEY_PREFIX) ? Number.parseInt(key.slice(prefixLength), 10) : keyGroupOf(key, maxParallelism);
}

