import type { ConfigMap, JobRunner } from '@mobius/interface';

/**
 * The options a test suite's jobs run with unless a job sets them itself. On by default:
 * `runtime.serialize-local-channels`, so an embedded test sends every record through the
 * network codec and a job that passes its tests embedded also runs on a cluster.
 */
export const SUITE_JOB_OPTIONS: ConfigMap = { 'runtime.serialize-local-channels': true };

/**
 * `runner`, with `defaults` added to every submitted job's options (a job's own value wins).
 * Wrap the default runner in a test setup file:
 * `setDefaultRunner(withJobDefaults(getDefaultRunner()!, SUITE_JOB_OPTIONS))`.
 */
export function withJobDefaults(runner: JobRunner, defaults: ConfigMap = SUITE_JOB_OPTIONS): JobRunner {
  return {
    submit: (graph, options) => runner.submit({ ...graph, config: { ...defaults, ...graph.config } }, options),
  };
}
