import { resolve } from 'node:path';

/**
 * The `process.argv` a job module sees, under `mobius run` and `mobius explain` alike (so the
 * plan explained is the plan that runs): `[node, absolute job path, ...job args]`, as if the job
 * were started with `node job.js args…`. A leading `--` before the job's arguments is dropped.
 */
export function jobArgv(file: string, jobArgs: readonly string[]): string[] {
  const args = jobArgs[0] === '--' ? jobArgs.slice(1) : jobArgs;
  return [process.argv[0], resolve(file), ...args];
}
