import { captureJob, type CapturedJob } from './load-job.js';

let queue: Promise<unknown> = Promise.resolve();

/**
 * Imports a written bundle in planning mode and returns the graph it submits. Planning mode is
 * process-wide, so captures run one at a time. (Kept apart from the bundler: the planning child
 * imports this, and esbuild would only slow its start.)
 */
export function captureBundle(path: string, args: readonly string[] = []): Promise<CapturedJob> {
  const next = queue.then(async () => {
    // The job sees its own arguments, not this process's command line, so the coordinator and
    // every worker build the same graph.
    const saved = process.argv;
    process.argv = [process.argv[0], path, ...args];
    try {
      return await captureJob(path);
    } finally {
      process.argv = saved;
    }
  });
  queue = next.catch(() => undefined);
  return next;
}
