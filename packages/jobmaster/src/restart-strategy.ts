import { CoreOptions, getConfig, type ConfigMap } from '@mobius/interface';

/**
 * How often and how soon a job recovers: at most `restart.max-attempts` recoveries over the
 * job's life, each global restore after `restart.delay.ms`. A later strategy (backoff, failure
 * rate) replaces this class without touching the job master.
 */
export class RestartStrategy {
  constructor(
    readonly maxAttempts: number,
    readonly delayMs: number,
  ) {}

  static fromConfig(config: ConfigMap): RestartStrategy {
    return new RestartStrategy(getConfig(config, CoreOptions.RESTART_MAX_ATTEMPTS), getConfig(config, CoreOptions.RESTART_DELAY_MS));
  }

  /** True while a job that recovered `restarts` times may recover once more. */
  canRestart(restarts: number): boolean {
    return restarts < this.maxAttempts;
  }

  /** Waits the restart delay. */
  delay(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
}
