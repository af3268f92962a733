// The entry of a worker's task thread (`mobius-cluster worker --task-threads N`). It binds a data
// transport of its own (the worker's kind: ZeroMQ, CURVE, or the `--transport` module), so other
// processes reach its tasks directly; sibling threads reach them through shared rings and its own
// tasks through memory (SlotTransport). Then it hosts the tasks the worker's main thread places
// here: it imports each job's bundle in planning mode, as the worker process does, and the
// ThreadTaskHost of @mobius/jobmaster runs them.
import { parentPort, workerData } from 'node:worker_threads';
import { FsCheckpointStore } from '@mobius/failover';
import { ThreadTaskHost, type JobSource } from '@mobius/jobmaster';
import { captureBundle } from '@mobius/job-loader';
import { createPlan } from '@mobius/planner';
import { THREAD_COLLECT_BATCH, registerCollectForwarder } from '@mobius/runtime';
import { ColumnFrameCodec, ThreadTransport } from '@mobius/transport-threads';
import { createDataTransport } from './data-transports.js';
import { createLogger } from './logger.js';
import { SlotTransport } from './slot-transport.js';
import { stateBackends } from './state-backend.js';
import type { TaskThreadData, TaskThreadSiblings, TaskThreadStarted } from './task-thread-data.js';

async function main(data: TaskThreadData): Promise<void> {
  const port = parentPort!;
  const logger = createLogger('mobius-worker', { taskThread: data.index });
  let transport: SlotTransport;
  try {
    const network = await createDataTransport(data.transport, { host: data.host, logger, curve: data.curve });
    transport = new SlotTransport(network, new ThreadTransport({ link: data.link, logger }), `task-thread-${process.pid}-${data.index}`);
    await transport.start();
  } catch (e) {
    port.postMessage({ t: 'start-failed', message: e instanceof Error ? e.message : String(e) } satisfies TaskThreadStarted);
    return;
  }
  port.once('message', (m: TaskThreadSiblings) => {
    transport.setSiblings(new Map(m.siblings));
    new ThreadTaskHost({
      port,
      transport,
      logger,
      loadJob: async (source: JobSource, name: string) => {
        const captured = await captureBundle(source.file, source.args);
        return { graph: captured.graph, plan: createPlan(captured.graph, name) };
      },
      stateBackend: (plan) => stateBackends.create(plan.config),
      checkpointStore: (dir) => new FsCheckpointStore({ directory: dir, logger }),
      collectCodec: new ColumnFrameCodec(),
      registerCollect: (jobId, plan, send) => registerCollectForwarder(jobId, plan, (message) => send(message), { batchSize: THREAD_COLLECT_BATCH }),
      progress: data.progress,
      replay: true,
    });
  });
  port.postMessage({ t: 'started', endpoint: transport.endpoint, threadEndpoint: transport.threadEndpoint } satisfies TaskThreadStarted);
}

void main(workerData as TaskThreadData);
