import type { Logger } from '@mobius/interface';

/**
 * Counts and logs input from the network that breaks a protocol. A flood of bad messages (a
 * port scanner, a peer of another version) must not flood the log too: at most `burst` lines
 * per second, then one line saying how many were left out.
 */
export class MalformedLog {
  /** Malformed inputs so far. */
  count = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(
    private readonly logger: Logger,
    private readonly burst = 100,
  ) {}

  report(reason: string, details: Readonly<Record<string, unknown>>): void {
    this.count++;
    const now = Date.now();
    if (now - this.windowStart > 1000) {
      if (this.windowCount > this.burst) this.logger.error({ suppressed: this.windowCount - this.burst }, 'more malformed messages were dropped without a log line');
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount <= this.burst) this.logger.error({ ...details, reason }, `malformed message dropped: ${reason}`);
  }
}
