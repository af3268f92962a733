import { CoreOptions, getConfig, type ConfigMap } from '@mobius/interface';
import { ExponentialDelayBackoff, FailureRateBackoff, FixedDelayBackoff, type FailureBackoff, type RestartDecision } from './restart-backoff.js';

export type RestartStrategyName = 'fixed-delay' | 'exponential-delay' | 'failure-rate';

/** Time and randomness of a restart strategy, injectable so tests run on a fake clock. */
export interface RestartClock {
  now(): number;
  /** A draw in [0, 1). */
  random(): number;
}

export const systemRestartClock: RestartClock = { now: () => Date.now(), random: () => Math.random() };

/**
 * How often and how soon a job recovers (`restart.strategy`, after Flink's restart strategies).
 * Failures are accounted per subject: a single-task (or region) recovery is one failure of each
 * failed task, with that task's own backoff, and a global restore one failure of the job. So a
 * long-running job whose tasks fail now and then, each recovered alone, is never charged for
 * the failures of others, and `exponential-delay` (the default) has no lifetime cap at all.
 */
export class RestartStrategy {
  private readonly job: FailureBackoff;
  /** Bounded by the tasks of the plan (ids of rescaled tasks included). */
  private readonly tasks = new Map<string, FailureBackoff>();

  constructor(
    readonly name: RestartStrategyName,
    private readonly create: () => FailureBackoff,
    private readonly clock: RestartClock = systemRestartClock,
  ) {
    this.job = create();
  }

  static fromConfig(config: ConfigMap, clock: RestartClock = systemRestartClock): RestartStrategy {
    const name = getConfig(config, CoreOptions.RESTART_STRATEGY);
    const delayMs = getConfig(config, CoreOptions.RESTART_DELAY_MS);
    if (name === 'fixed-delay') {
      const max = getConfig(config, CoreOptions.RESTART_MAX_ATTEMPTS);
      return new RestartStrategy(name, () => new FixedDelayBackoff(max, delayMs), clock);
    }
    if (name === 'failure-rate') {
      const max = getConfig(config, CoreOptions.RESTART_FAILURE_RATE_MAX_FAILURES_PER_INTERVAL);
      const interval = getConfig(config, CoreOptions.RESTART_FAILURE_RATE_INTERVAL_MS);
      return new RestartStrategy(name, () => new FailureRateBackoff(max, interval, delayMs), clock);
    }
    const options = {
      initialBackoffMs: getConfig(config, CoreOptions.RESTART_EXPONENTIAL_INITIAL_BACKOFF_MS),
      maxBackoffMs: getConfig(config, CoreOptions.RESTART_EXPONENTIAL_MAX_BACKOFF_MS),
      multiplier: getConfig(config, CoreOptions.RESTART_EXPONENTIAL_BACKOFF_MULTIPLIER),
      resetThresholdMs: getConfig(config, CoreOptions.RESTART_EXPONENTIAL_RESET_BACKOFF_THRESHOLD_MS),
      jitterFactor: getConfig(config, CoreOptions.RESTART_EXPONENTIAL_JITTER_FACTOR),
    };
    return new RestartStrategy(name, () => new ExponentialDelayBackoff(options), clock);
  }

  /** A global restore: one failure of the job. */
  jobFailed(): RestartDecision {
    return this.job.failed(this.clock.now(), this.clock.random());
  }

  /**
   * A single-task or region recovery: one failure of each failed task. The recovery waits the
   * longest of their delays; it is refused when any of them may not recover again.
   */
  tasksFailed(taskIds: readonly string[]): RestartDecision {
    const now = this.clock.now();
    let delayMs = 0;
    for (const id of taskIds) {
      let backoff = this.tasks.get(id);
      if (backoff === undefined) {
        backoff = this.create();
        this.tasks.set(id, backoff);
      }
      const d = backoff.failed(now, this.clock.random());
      if (!d.restart) return { restart: false, delayMs: 0, reason: `${d.reason} for task ${id}` };
      delayMs = Math.max(delayMs, d.delayMs);
    }
    return { restart: true, delayMs };
  }

  /** Waits a decision's delay (at once when it is 0). */
  wait(delayMs: number): Promise<void> {
    if (delayMs <= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
