import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { CoreOptions, MobiusError, getConfig, type ExecutionPlan } from '@mobius/interface';
import type { JobSource } from '@mobius/jobmaster';

/** The module `mobius run` is running, which task threads import to get the job's functions. */
let runSource: JobSource | undefined;

/** `mobius run` names the job module here before it imports it. */
export function setJobSource(file: string, args: readonly string[]): void {
  runSource = { file: resolve(file), args: [...args] };
}

/** The script this process was started with (`node job.js`, `tsx job.ts`), if it is a file. */
function entryScript(): JobSource | undefined {
  const file = process.argv[1];
  if (file === undefined || !existsSync(file)) return undefined;
  return { file: resolve(file), args: process.argv.slice(2) };
}

/** How a job's tasks run in this process: on `threads` task threads that import `source`, or on the calling thread (threads 0). */
export interface ThreadChoice {
  readonly threads: number;
  readonly source?: JobSource;
}

/**
 * `execution.threads` for a job: `0` keeps every task on the calling thread; `auto` means the
 * machine's cores when the job comes from `mobius run` (a module made to be imported), else 0,
 * so a script or test whose sink writes into its own variables keeps working; a number asks for
 * threads outright, and then the job's module is `mobius run`'s or the entry script.
 */
export function chooseThreads(plan: ExecutionPlan): ThreadChoice {
  const setting = getConfig(plan.config, CoreOptions.EXECUTION_THREADS);
  if (setting === 0) return { threads: 0 };
  if (setting === 'auto') return runSource === undefined ? { threads: 0 } : { threads: availableParallelism(), source: runSource };
  const source = runSource ?? entryScript();
  if (source === undefined) {
    throw new MobiusError(
      'THREADS_NEED_MODULE',
      `job "${plan.jobName}": execution.threads = ${setting} needs the job's module for its threads to import: run it with \`mobius run job.ts\` or from its own script, or set execution.threads to 0`,
    );
  }
  return { threads: setting, source };
}
