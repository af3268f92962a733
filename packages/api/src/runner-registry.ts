import { RunnerError, type JobRunner } from '@mobius/interface';

// Kept on globalThis under registered symbols so that the ESM and CJS builds of this
// package (and copies of it in different node_modules) share one registry.
const DEFAULT_RUNNER = Symbol.for('mobius.api.defaultRunner');
const RUNNER_OVERRIDE = Symbol.for('mobius.api.runnerOverride');

type Registry = { [DEFAULT_RUNNER]?: JobRunner; [RUNNER_OVERRIDE]?: JobRunner };
const registry = globalThis as unknown as Registry;

/** Sets the runner used by contexts built without `.runner(...)` (the `mobius` package sets the embedded one). */
export function setDefaultRunner(runner: JobRunner | undefined): void {
  registry[DEFAULT_RUNNER] = runner;
}

/** The runner contexts use when none was given, if any. */
export function getDefaultRunner(): JobRunner | undefined {
  return registry[DEFAULT_RUNNER];
}

/**
 * Sets a runner that wins over every other, even one passed to `builder().runner()`. Used to
 * import a job module in planning mode (capture its graph instead of running it).
 */
export function setRunnerOverride(runner: JobRunner | undefined): void {
  registry[RUNNER_OVERRIDE] = runner;
}

export function resolveRunner(explicit: JobRunner | undefined): JobRunner {
  const runner = registry[RUNNER_OVERRIDE] ?? explicit ?? registry[DEFAULT_RUNNER];
  if (runner === undefined) {
    throw new RunnerError(
      "no job runner: import { StreamingContext } from 'mobius' to run jobs in-process, or pass one with StreamingContext.builder().runner(...)",
    );
  }
  return runner;
}
