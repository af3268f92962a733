// The entry of a worker's heartbeat thread (a worker_threads Worker, built as its own file).
// Task code runs on the worker's main thread and may hold it for seconds; this thread keeps
// sending heartbeats all the same, on a control connection of its own, with the task list the
// main thread last published and the progress its task loops keep writing to shared memory.
import { parentPort, workerData } from 'node:worker_threads';
import type { TaskMetrics, TaskProgressReport } from '@mobius/interface';
import { TaskProgress } from '@mobius/runtime';
import { ZmqControlClient } from '@mobius/transport-zeromq';
import { heartbeatPeerId } from './heartbeat-peer.js';
import type { HeartbeatThreadData, HeartbeatThreadMessage, HeartbeatThreadReply, ProgressSlot } from './heartbeat-sender.js';
import { createLogger } from './logger.js';

const data = workerData as HeartbeatThreadData;
const port = parentPort!;
const logger = createLogger('mobius-worker', { workerId: data.workerId, thread: 'heartbeat' });
const cells = new Int32Array(data.progress);
const client = new ZmqControlClient({ serverEndpoint: data.coordinator, id: heartbeatPeerId(data.workerId), logger });

let tasks: readonly TaskMetrics[] = [];
let slots: readonly ProgressSlot[] = [];

function beat(): void {
  const progress: TaskProgressReport[] = [];
  for (const s of slots) {
    const read = TaskProgress.read(cells, s.slot);
    progress.push({ taskId: s.taskId, attempt: s.attempt, records: read.records, busy: read.busy });
  }
  try {
    client.push('coordinator', { type: 'heartbeat', workerId: data.workerId, time: Date.now(), tasks, progress });
  } catch (e) {
    logger.warn({ err: e }, 'sending a heartbeat failed');
  }
}

let timer: NodeJS.Timeout | undefined;

port.on('message', (message: HeartbeatThreadMessage) => {
  if (message.type === 'tasks') {
    tasks = message.tasks;
    slots = message.slots;
    port.postMessage({ type: 'published', seq: message.seq } satisfies HeartbeatThreadReply);
    return;
  }
  if (message.type === 'begin') {
    // Registered: heartbeats from now on, at the coordinator's pace.
    if (timer !== undefined) clearInterval(timer);
    timer = setInterval(beat, message.heartbeatMs);
    beat();
    return;
  }
  // Stop: the last queued heartbeats reach the coordinator, then the thread ends by itself
  // (terminating a thread that holds a ZeroMQ socket aborts the process).
  if (timer !== undefined) clearInterval(timer);
  void client.close().finally(() => port.close());
});

void client.start().then(
  () => port.postMessage({ type: 'started' }),
  (e: unknown) => port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) }),
);
