import { CheckpointError, type StateSnapshot } from '@mobius/interface';
import type { LevelStateSnapshot } from './level-state-backend.js';
import { decodeGroup, encodeGroup, type GroupEntry } from './snapshot-format.js';

/**
 * Merges a snapshot chain of one operator of one task (a full snapshot, then its deltas, oldest
 * first) into one full snapshot of the last one's checkpoint: what a restore of the chain gives,
 * without the chain. Values are copied as bytes, never decoded.
 */
export function compactLevelSnapshots(chain: readonly StateSnapshot[]): LevelStateSnapshot {
  const snapshots = chain as readonly LevelStateSnapshot[];
  if (snapshots.length === 0 || snapshots[0].incremental) {
    throw new CheckpointError('CHECKPOINT_FAILED', 'a snapshot chain to compact must start with a full snapshot');
  }
  const groups = new Map<number, Map<string, GroupEntry>>();
  for (const snapshot of snapshots) {
    // A full snapshot replaces everything before it.
    if (!snapshot.incremental) groups.clear();
    for (const [keyGroup, bytes] of snapshot.groups) {
      let entries = groups.get(keyGroup);
      if (entries === undefined) groups.set(keyGroup, (entries = new Map()));
      for (const e of decodeGroup(bytes, `key group ${keyGroup} of checkpoint ${snapshot.checkpointId}`)) {
        const id = Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength).toString('latin1');
        if (e.value === undefined) entries.delete(id);
        else entries.set(id, e);
      }
    }
  }
  const last = snapshots[snapshots.length - 1];
  const out = new Map<number, Uint8Array>();
  for (const [keyGroup, entries] of groups) if (entries.size > 0) out.set(keyGroup, encodeGroup([...entries.values()], false));
  return { ...last, incremental: false, baseCheckpointId: undefined, groups: out };
}
