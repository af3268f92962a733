import type { StateSnapshot } from '@mobius/interface';

/**
 * The list to restore a checkpoint from: the snapshot itself, preceded by its base chain when
 * it is incremental (`incremental: true`, `baseCheckpointId`), oldest first. A base is the
 * snapshot of `history` with that checkpoint id, the same operator and the same key-group
 * range (the same task). This is what a checkpoint store does; a backend without incremental
 * snapshots gives a list of one.
 */
export function restoreChain(snapshot: StateSnapshot, history: readonly StateSnapshot[]): StateSnapshot[] {
  const chain: StateSnapshot[] = [snapshot];
  let s = snapshot;
  while (s.incremental === true) {
    const base = history.find(
      (h) =>
        h.checkpointId === s.baseCheckpointId && h.operatorId === s.operatorId && h.keyGroups.start === s.keyGroups.start && h.keyGroups.end === s.keyGroups.end,
    );
    if (base === undefined) throw new Error(`the base checkpoint ${String(s.baseCheckpointId)} of snapshot ${s.checkpointId} is not in the history`);
    chain.unshift(base);
    s = base;
  }
  return chain;
}
