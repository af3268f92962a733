import type { TaskSnapshot } from '@mobius/interface';

/** Marks the snapshot of an operator with broadcast state, so a restore can find it among the functions' states. */
export const BROADCAST_SNAPSHOT_MARK = 'mobius.broadcastState';

function isBroadcast(state: unknown): boolean {
  return typeof state === 'object' && state !== null && (state as Record<string, unknown>)[BROADCAST_SNAPSHOT_MARK] === 1;
}

/**
 * The function states a task restores: its own, except that an operator with broadcast state
 * takes task 0's copy (as Flink: every task holds the same, and after a rescale a new task has
 * no copy of its own). `snapshots` are the latest snapshot of each old task of the vertex.
 */
export function withTaskZeroBroadcastState(
  own: Readonly<Record<string, unknown>> | undefined,
  snapshots: readonly TaskSnapshot[],
): Readonly<Record<string, unknown>> | undefined {
  const zero = snapshots.find((s) => s.taskId.endsWith('#0')) ?? snapshots[0];
  if (zero?.functions === undefined) return own;
  let merged: Record<string, unknown> | undefined;
  for (const [opId, state] of Object.entries(zero.functions)) {
    if (!isBroadcast(state) || own?.[opId] === state) continue;
    merged ??= { ...own };
    merged[opId] = state;
  }
  return merged ?? own;
}
