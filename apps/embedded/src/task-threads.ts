import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ExecutionPlan, Logger } from '@mobius/interface';
import { ThreadedGateway, type JobSource } from '@mobius/jobmaster';
import { ColumnFrameCodec, ThreadHub } from '@mobius/transport-threads';
import type { CollectResults } from './collect-results.js';

export interface ThreadedJobOptions {
  readonly jobId: string;
  readonly name: string;
  readonly plan: ExecutionPlan;
  readonly source: JobSource;
  readonly threads: number;
  readonly checkpointDir?: string;
  readonly collected: CollectResults;
  readonly logger: Logger;
}

/** The built entry of a task thread (beside this module in dist; from the sources, in dist next to them). */
function taskThreadEntry(): URL {
  const beside = new URL('./task-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../dist/task-thread.js', import.meta.url);
}

/** A job's task threads: a ThreadHub introduces them to each other, each runs `task-thread.js`. */
export function threadedGateway(options: ThreadedJobOptions): ThreadedGateway {
  const hub = new ThreadHub(options.logger);
  const entry = taskThreadEntry();
  const logLevel = (options.logger as { level?: unknown }).level;
  return new ThreadedGateway({
    jobId: options.jobId,
    name: options.name,
    plan: options.plan,
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
