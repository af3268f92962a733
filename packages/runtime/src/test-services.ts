/**
 * Test helpers (not exported from the package): the services of a task on the test transport,
 * with a checkpoint listener that records snapshots and resolves `acked` on the first one.
 */
import { silentLogger, type CheckpointListener, type TaskSnapshot } from '@mobius/interface';
import { MemoryStateBackend } from './memory-state-backend.js';
import type { TaskServices } from './task.js';
import { deferred, TestTransport, type Deferred } from './test-channels.js';

export interface RecordingServices {
  readonly services: TaskServices;
  readonly transport: TestTransport;
  readonly snapshots: TaskSnapshot[];
  readonly acked: Deferred<void>;
}

export function recordingServices(): RecordingServices {
  const transport = new TestTransport();
  const snapshots: TaskSnapshot[] = [];
  const acked = deferred();
  const checkpoints: CheckpointListener = {
    acknowledge: (s) => {
      snapshots.push(s);
      acked.resolve();
    },
    decline: (_t, _id, reason) => acked.reject(new Error(reason)),
  };
  const services: TaskServices = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger, checkpoints };
  return { services, transport, snapshots, acked };
}
