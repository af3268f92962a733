// Fixtures shared by the streaming-context-*.test.ts files: a runner that runs nothing, and a small job.
import {
  MobiusError,
  type JobHandle,
  type JobResult,
  type JobRunner,
  type LogicalGraph,
  type SubmitOptions,
} from '@mobius/interface';
import { setDefaultRunner, setRunnerOverride } from './runner-registry.js';
import { StreamingContext } from './streaming-context.js';

/** A runner that runs nothing: it keeps every submitted graph and returns a finished handle. */
export class CapturingRunner implements JobRunner {
  readonly submissions: { graph: LogicalGraph; options: SubmitOptions }[] = [];
  readonly results: JobResult[] = [];

  constructor(readonly label = 'capturing') {}

  async submit(graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
    this.submissions.push({ graph, options });
    const id = `${this.label}-${this.submissions.length}`;
    const result: JobResult = { jobId: id, name: options.name, state: 'FINISHED', startTime: 1, endTime: 3, durationMs: 2, tasks: [] };
    this.results.push(result);
    return {
      id,
      name: options.name,
      state: 'FINISHED',
      result: async () => result,
      cancel: async () => {},
      metrics: () => [],
      events: () => [],
      rescale: () => Promise.reject(new MobiusError('RESCALE_UNSUPPORTED', 'a capturing runner runs nothing to rescale')),
    };
  }
}

/** Awaits a promise that must reject and returns the reason. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

export function withRunner(runner: JobRunner = new CapturingRunner()): StreamingContext {
  return StreamingContext.builder().runner(runner).build();
}

/** A small word-count job; `p` is the parallelism of the reduce. */
export function wordCount(ctx: StreamingContext, p = 2): void {
  ctx
    .fromValues('a b', 'b c')
    .flatMap((line: string) => line.split(' '))
    .map((w): [string, number] => [w, 1])
    .keyBy((pair) => pair[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .setParallelism(p)
    .sink(() => {});
}

/** Clears the default runner and the override (a beforeEach and afterEach hook of every test file). */
export function resetRunners(): void {
  setDefaultRunner(undefined);
  setRunnerOverride(undefined);
}
