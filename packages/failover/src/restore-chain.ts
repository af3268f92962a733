import { CheckpointError, type CheckpointMetadata, type CheckpointStore } from '@mobius/interface';

/** What the chain walk needs of a task snapshot. */
interface ChainedSnapshot {
  readonly taskId: string;
  readonly checkpointId: number;
  /** Operator id → state snapshot; incremental ones carry `incremental` and `baseCheckpointId`. */
  readonly operators: Readonly<Record<string, object>>;
}

/**
 * The task snapshots a restore of checkpoint `latest` needs: each task's own and, where its
 * state is incremental (a delta on an earlier checkpoint), the snapshots of that task in the
 * earlier checkpoints back to a full one. Sorted oldest first, so deltas apply in order; the
 * handles come in the same order. `bytes`: the size of all of them, as read.
 */
export async function snapshotsToRestore<S extends ChainedSnapshot>(
  store: CheckpointStore,
  jobId: string,
  latest: CheckpointMetadata,
  decode: (bytes: Uint8Array) => S,
): Promise<{ snapshots: S[]; handles: string[]; bytes: number }> {
  const completed = new Map((await store.list(jobId)).map((m) => [m.checkpointId, m]));
  completed.set(latest.checkpointId, latest);
  const found: { snapshot: S; handle: string }[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  const visit = async (metadata: CheckpointMetadata, taskId: string): Promise<void> => {
    const handle = metadata.tasks[taskId];
    if (handle === undefined || seen.has(handle)) return;
    seen.add(handle);
    const data = await store.readTaskState(handle);
    bytes += data.byteLength;
    const snapshot = decode(data);
    found.push({ snapshot, handle });
    const bases = new Set<number>();
    for (const op of Object.values(snapshot.operators) as { incremental?: boolean; baseCheckpointId?: number }[]) {
      if (op.incremental === true && op.baseCheckpointId !== undefined) bases.add(op.baseCheckpointId);
    }
    for (const base of bases) {
      const baseMetadata = completed.get(base);
      if (baseMetadata === undefined) {
        throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint ${latest.checkpointId} of job ${jobId} builds on checkpoint ${base}, which is no longer in the store`);
      }
      await visit(baseMetadata, taskId);
    }
  };
  for (const taskId of Object.keys(latest.tasks)) await visit(latest, taskId);
  found.sort((a, b) => a.snapshot.checkpointId - b.snapshot.checkpointId);
  return { snapshots: found.map((f) => f.snapshot), handles: found.map((f) => f.handle), bytes };
}

/**
 * Background compaction of a completed checkpoint: each task snapshot whose state is
 * incremental is replaced, under the same handle (an atomic rewrite of the store's file), by
 * one whose state chains are merged into full snapshots (`compact`). A restore of the
 * checkpoint then reads one file per task, and older checkpoints are no longer needed for it.
 * Returns how many task snapshots were rewritten.
 */
export async function compactCheckpoint<S extends ChainedSnapshot>(
  store: CheckpointStore,
  jobId: string,
  metadata: CheckpointMetadata,
  codec: { decode(bytes: Uint8Array): S; encode(snapshot: S): Uint8Array },
  compact: (chain: readonly object[]) => object,
): Promise<number> {
  let rewritten = 0;
  for (const [taskId, handle] of Object.entries(metadata.tasks)) {
    const snapshot = codec.decode(await store.readTaskState(handle));
    const incremental = Object.entries(snapshot.operators).filter(([, op]) => (op as { incremental?: boolean }).incremental === true);
    if (incremental.length === 0) continue;
    const { snapshots } = await snapshotsToRestore(store, jobId, { ...metadata, tasks: { [taskId]: handle } }, codec.decode);
    const operators: Record<string, object> = { ...snapshot.operators };
    for (const [opId] of incremental) {
      operators[opId] = compact(snapshots.map((s) => s.operators[opId]).filter((op): op is object => op !== undefined));
    }
    const replaced = await store.writeTaskState(jobId, metadata.checkpointId, taskId, codec.encode({ ...snapshot, operators }));
    if (replaced !== handle) {
      throw new CheckpointError('CHECKPOINT_FAILED', `compacting checkpoint ${metadata.checkpointId} of job ${jobId}: the store gave task ${taskId} a new handle (${replaced}, was ${handle})`);
    }
    rewritten++;
  }
  return rewritten;
}
