import type { CheckpointListener, CheckpointStore, TaskGatewayListener, TaskSnapshot } from '@mobius/interface';
import { decodeTaskSnapshot, encodeTaskSnapshot } from '@mobius/runtime';

/** Every task snapshot of a checkpoint (keyed state may come from any old task when rescaled). */
export function readTaskSnapshots(store: CheckpointStore, handles: readonly string[]): Promise<TaskSnapshot[]> {
  return Promise.all(handles.map(async (h) => decodeTaskSnapshot(await store.readTaskState(h))));
}

/** Where a checkpoint's outcome per task goes (the job master, or the control channel to it). */
export type CheckpointAcks = Pick<TaskGatewayListener, 'acknowledgeCheckpoint' | 'declineCheckpoint'>;

/** Tasks' snapshots go to the store; `acks` gets each handle, or a decline when writing failed. */
export function storeCheckpointListener(jobId: string, store: CheckpointStore, acks: CheckpointAcks): CheckpointListener {
  return {
    acknowledge: (snapshot) => {
      void store.writeTaskState(jobId, snapshot.checkpointId, snapshot.taskId, encodeTaskSnapshot(snapshot)).then(
        (handle) => acks.acknowledgeCheckpoint(snapshot.taskId, snapshot.checkpointId, handle),
        (e: unknown) => acks.declineCheckpoint(snapshot.taskId, snapshot.checkpointId, `writing the snapshot failed: ${(e as Error).message}`),
      );
    },
    decline: (taskId, checkpointId, reason) => acks.declineCheckpoint(taskId, checkpointId, reason),
  };
}
