import { Worker } from 'node:worker_threads';
import type { ExecutionPlan, Logger, LogicalGraph } from '@mobius/interface';
import { ThreadedGateway, threadEntry, type JobSource } from '@mobius/jobmaster';
import { ColumnFrameCodec, ThreadHub } from '@mobius/transport-threads';
import type { CollectResults } from './collect-results.js';

export interface ThreadedJobOptions {
  readonly jobId: string;
  readonly name: string;
  readonly plan: ExecutionPlan;
  /** The job's graph (for live rescaling). */
  readonly graph: LogicalGraph;
  readonly source: JobSource;
  readonly threads: number;
  readonly checkpointDir?: string;
  readonly collected: CollectResults;
  readonly logger: Logger;
}

/** A job's task threads: a ThreadHub introduces them to each other, each runs `task-thread.js`. */
export function threadedGateway(options: ThreadedJobOptions): ThreadedGateway {
  const hub = new ThreadHub(options.logger);
  const entry = threadEntry(import.meta.url, 'task-thread.js', 'the task thread', 'mobius');
  const logLevel = (options.logger as { level?: unknown }).level;
  return new ThreadedGateway({
    jobId: options.jobId,
    name: options.name,
    plan: options.plan,
    graph: options.graph,
    source: options.source,
    graphHash: options.plan.graphHash,
    threads: options.threads,
    checkpointDir: options.checkpointDir,
    logger: options.logger,
    collect: (message) => options.collected.accept(message),
    collectCodec: new ColumnFrameCodec(),
    spawn: (index) => {
      const link = hub.link(index);
      const worker = new Worker(entry, {
        workerData: { link, logLevel: typeof logLevel === 'string' ? logLevel : undefined },
        transferList: [link.port],
        execArgv: process.execArgv,
        stdout: true,
      });
      hub.watch(index, worker);
      // What the job module prints while a thread imports it (its usage line, a banner) was
      // printed once by this thread already; what its functions print later comes through.
      let printing = false;
      worker.stdout.on('data', (chunk: Buffer) => {
        if (printing) process.stdout.write(chunk);
      });
      return { worker, endpoint: link.endpoint, loaded: () => (printing = true) };
    },
    release: () => hub.close(),
  });
}
