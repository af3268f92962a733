/** What a restart strategy answers to one failure: recover after `delayMs`, or fail the job (`reason` says why). */
export interface RestartDecision {
  readonly restart: boolean;
  readonly delayMs: number;
  /** Why the job may not recover (set when `restart` is false). */
  readonly reason?: string;
}

/**
 * The failure accounting of one subject (a task, or the job itself): each failure is recorded
 * and answered with a decision. Pure: time and randomness come in as arguments.
 */
export interface FailureBackoff {
  /** Records a failure at `now`; `random` is a draw in [0, 1) for jitter. */
  failed(now: number, random: number): RestartDecision;
}

/** Flink's fixed-delay: the same delay each time, at most `maxAttempts` recoveries. */
export class FixedDelayBackoff implements FailureBackoff {
  private attempts = 0;

  constructor(
    private readonly maxAttempts: number,
    private readonly delayMs: number,
  ) {}

  failed(): RestartDecision {
    if (this.attempts >= this.maxAttempts) return { restart: false, delayMs: 0, reason: `restart.max-attempts ${this.maxAttempts} reached` };
    this.attempts++;
    return { restart: true, delayMs: this.delayMs };
  }
}

export interface ExponentialDelayOptions {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
  readonly resetThresholdMs: number;
  readonly jitterFactor: number;
}

/**
 * Flink's exponential-delay: the first failure waits the initial backoff, each further one the
 * previous backoff times the multiplier (at most the maximum), moved by up to ± jitter. A
 * subject that ran `resetThresholdMs` since its last recovery (its failure plus the delay it
 * waited) without failing starts again from the initial backoff. No lifetime cap.
 */
export class ExponentialDelayBackoff implements FailureBackoff {
  private backoffMs: number | undefined;
  /** When the last recovery was due (failure time plus its delay). */
  private restartedAt = 0;

  constructor(private readonly options: ExponentialDelayOptions) {}

  failed(now: number, random: number): RestartDecision {
    const o = this.options;
    if (this.backoffMs === undefined || now - this.restartedAt >= o.resetThresholdMs) this.backoffMs = Math.min(o.initialBackoffMs, o.maxBackoffMs);
    else this.backoffMs = Math.min(this.backoffMs * o.multiplier, o.maxBackoffMs);
    const jitter = this.backoffMs * o.jitterFactor * (2 * random - 1);
    const delayMs = Math.max(0, Math.round(this.backoffMs + jitter));
    this.restartedAt = now + delayMs;
    return { restart: true, delayMs };
  }
}

/**
 * Flink's failure-rate: the same delay each time; the job fails when a failure comes while
 * `maxFailures` earlier ones fall within the last `intervalMs`.
 */
export class FailureRateBackoff implements FailureBackoff {
  /** Times of the last `maxFailures` recovered failures, oldest first. */
  private readonly times: number[] = [];

  constructor(
    private readonly maxFailures: number,
    private readonly intervalMs: number,
    private readonly delayMs: number,
  ) {}

  failed(now: number): RestartDecision {
    if (this.times.length >= this.maxFailures && now - this.times[0] < this.intervalMs) {
      return {
        restart: false,
        delayMs: 0,
        reason: `restart.failure-rate.max-failures-per-interval ${this.maxFailures} reached within restart.failure-rate.interval.ms ${this.intervalMs}`,
      };
    }
    this.times.push(now);
    if (this.times.length > this.maxFailures) this.times.shift();
    return { restart: true, delayMs: this.delayMs };
  }
}
