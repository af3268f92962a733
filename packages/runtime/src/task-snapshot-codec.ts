import { deserialize, serialize } from 'node:v8';
import { CheckpointError, type TaskSnapshot } from '@mobius/interface';

/**
 * A task snapshot as bytes for a checkpoint store (V8's structured serialisation keeps the
 * Maps and byte arrays of state snapshots). The store adds the checksum.
 */
export function encodeTaskSnapshot(snapshot: TaskSnapshot): Uint8Array {
  return serialize(snapshot);
}

export function decodeTaskSnapshot(bytes: Uint8Array): TaskSnapshot {
  let value: unknown;
  try {
    value = deserialize(bytes);
  } catch (e) {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `a task snapshot could not be decoded: ${(e as Error).message}`);
  }
  const s = value as Partial<TaskSnapshot> | null;
  if (s === null || typeof s !== 'object' || typeof s.taskId !== 'string' || typeof s.checkpointId !== 'number' || typeof s.operators !== 'object') {
    throw new CheckpointError('CHECKPOINT_CORRUPT', 'a task snapshot has the wrong shape');
  }
  return s as TaskSnapshot;
}
