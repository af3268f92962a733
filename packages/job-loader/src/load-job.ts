import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setRunnerOverride } from '@mobius/api';
import { MobiusError, type JobHandle, type LogicalGraph } from '@mobius/interface';

let tsxRegistered = false;
let captures = 0;

/** Imports a job module; TypeScript files go through tsx, so no compile step is needed. */
export function importJob(file: string): Promise<unknown> {
  return load(file, '');
}

async function load(file: string, query: string): Promise<unknown> {
  const path = resolve(file);
  if (/\.(c|m)?tsx?$/.test(path) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(pathToFileURL(path).href + query);
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
    // Node evaluates a module once per URL, and a captured import never finishes (submit()
    // never returns): each capture imports the module under a URL of its own.
    const imported = load(file, `?mobius-capture=${++captures}`).then(() => {
      throw new MobiusError('NO_JOB', `${file} did not submit a job: call ctx.submit(name) or ctx.execute(name) when the module loads`);
    });
    return await Promise.race([submitted, imported]);
  } finally {
    setRunnerOverride(undefined);
  }
}
