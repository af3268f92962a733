// The entry of a task thread of embedded mode (`execution.threads`): it imports the job's module
// in planning mode, as a cluster worker imports a job bundle, and runs the tasks the main
// thread's ThreadedGateway places here. Channels to tasks of this thread stay in memory; those
// to other threads go through SharedArrayBuffer rings (transport-threads).
import { parentPort, workerData } from "node:worker_threads";
import { FsCheckpointStore } from "@mobius/failover";
import { ThreadTaskHost, type JobSource } from "@mobius/jobmaster";
import { captureJob } from "@mobius/job-loader";
import { createPlan } from "@mobius/planner";
import { THREAD_COLLECT_BATCH, registerCollectForwarder } from "@mobius/runtime";
import { LocalFirstTransport } from "@mobius/transport-memory";
import { ColumnFrameCodec, ThreadTransport, type ThreadLink } from "@mobius/transport-threads";
import { jobArgv } from "./job-argv.js";
import { createLogger } from "./logger.js";
import { stateBackendFor } from "./state-backend.js";
import "./register-default-runner.js";

interface TaskThreadData {
  readonly link: ThreadLink;
  readonly logLevel?: string;
}

async function main(data: TaskThreadData): Promise<void> {
  const logger = createLogger(data.logLevel).child({
    thread: data.link.threadIndex,
  });
  const transport = new LocalFirstTransport(
    new ThreadTransport({ link: data.link, logger }),
    `task-thread-${process.pid}-${data.link.threadIndex}`
  );
  await transport.start();
  new ThreadTaskHost({
    port: parentPort!,
    transport,
    logger,
    loadJob: async (source: JobSource, name: string) => {
      process.argv = jobArgv(source.file, source.args);
      const captured = await captureJob(source.file);
      return { graph: captured.graph, plan: createPlan(captured.graph, name) };
    },
    stateBackend: stateBackendFor,
    checkpointStore: (dir) => new FsCheckpointStore({ directory: dir, logger }),
    collectCodec: new ColumnFrameCodec(),
    registerCollect: (jobId, plan, send) =>
      registerCollectForwarder(jobId, plan, (message) => send(message), { batchSize: THREAD_COLLECT_BATCH }),
  });
}

// The host answers the main thread's messages (they wait in the port until it listens).
void main(workerData as TaskThreadData);
