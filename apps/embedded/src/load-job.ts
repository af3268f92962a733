import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setRunnerOverride } from '@mobius/api';
import { MobiusError, type JobHandle, type LogicalGraph } from '@mobius/interface';

let tsxRegistered = false;

/** Imports a job module; TypeScript files go through tsx, so no compile step is needed. */
export async function importJob(file: string): Promise<unknown> {
  const path = resolve(file);
  if (/\.(c|m)?tsx?$/.test(path) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(pathToFileURL(path).href);
}

/** What planning mode captured: the graph the job module submitted, and its name. */
export interface CapturedJob {
  readonly graph: LogicalGraph;
  readonly name: string;
}

/**
 * Imports a job module in planning mode: its first `submit()` hands over the graph instead of
 * running it, and never returns (code after it does not run). A job module must therefore
 * build the same graph every time it is imported.
 */
export async function captureJob(file: string): Promise<CapturedJob> {
  let captured: ((job: CapturedJob) => void) | undefined;
  const submitted = new Promise<CapturedJob>((resolveJob) => (captured = resolveJob));
  setRunnerOverride({
    submit(graph, options): Promise<JobHandle> {
      captured!({ graph, name: options.name });
      return new Promise<JobHandle>(() => undefined);
    },
  });
  try {
    const imported = importJob(file).then(() => {
      throw new MobiusError('NO_JOB', `${file} did not submit a job: call ctx.submit(name) or ctx.execute(name) when the module loads`);
    });
    return await Promise.race([submitted, imported]);
  } finally {
    setRunnerOverride(undefined);
  }
}
