import { CoreOptions, PlanError, type ConfigValue } from '@mobius/interface';

/** Options of `asyncMap` (Flink's AsyncDataStream.orderedWait / unorderedWait). */
export interface AsyncMapOptions {
  /**
   * true (the default): results leave in input order. false: as they complete, but never across
   * a watermark or a checkpoint barrier (kept in order under single-task failover, whose replay
   * must regenerate the same output).
   */
  readonly ordered?: boolean;
  /** Calls in flight per task, completed results waiting for their turn included (`runtime.async.capacity`, default 100). */
  readonly capacity?: number;
  /** A call not completed within this many milliseconds fails the task (`runtime.async.timeout.ms`; default: no limit). */
  readonly timeoutMs?: number;
}

/** The operator options `asyncMap` sets: its options as `runtime.async.*` keys, checked here so the error names the option. */
export function asyncMapConfig(options: AsyncMapOptions): Record<string, ConfigValue> {
  const config: Record<string, ConfigValue> = {};
  const { ordered, capacity, timeoutMs } = options;
  if (ordered !== undefined) {
    if (typeof ordered !== 'boolean') throw invalid(`ordered must be a boolean, got ${typeof ordered}`);
    config[CoreOptions.ASYNC_ORDERED.key] = ordered;
  }
  if (capacity !== undefined) {
    if (!Number.isInteger(capacity) || capacity < 1) throw invalid(`capacity must be an integer of at least 1, got ${String(capacity)}`);
    config[CoreOptions.ASYNC_CAPACITY.key] = capacity;
  }
  if (timeoutMs !== undefined) {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw invalid(`timeoutMs must be an integer of at least 0 (0: no limit), got ${String(timeoutMs)}`);
    config[CoreOptions.ASYNC_TIMEOUT_MS.key] = timeoutMs;
  }
  return config;
}

function invalid(what: string): PlanError {
  return new PlanError('PLAN_INVALID_FUNCTION', `asyncMap(): ${what}`);
}
