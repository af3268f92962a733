import type { Logger } from '@mobius/interface';

export interface PeerLogLimits {
  /** Length of a window. Default 10 s. */
  readonly windowMs?: number;
  /** Lines logged per (peer, message) in a window; the rest are counted. Default 5. */
  readonly perPeer?: number;
  /**
   * Lines of any peer in a window, and also the most summary lines at its end. A scanner opens
   * a new connection (a new peer) per attempt, so a per-peer limit alone bounds nothing. Default 20.
   */
  readonly perWindow?: number;
  /** (peer, message) pairs tracked in a window; the rest are only counted. Default 1000. */
  readonly maxKeys?: number;
}

interface Entry {
  readonly level: 'warn' | 'error';
  readonly peer: string;
  readonly msg: string;
  suppressed: number;
  logged: number;
}

/**
 * Logs errors caused by what peers send (malformed messages, failed handshakes) without letting
 * random bytes or a peer of another version flood the log: in each window, the first `perPeer`
 * lines of one (peer, message) pair and at most `perWindow` lines overall are written; when the
 * window ends, one line per pair says "… (repeated K times in the last N s)" and one more line
 * counts whatever did not fit. Memory is bounded by `maxKeys`.
 */
export class PeerLogLimiter {
  /** Reports so far, logged or not. */
  count = 0;
  private readonly windowMs: number;
  private readonly perPeer: number;
  private readonly perWindow: number;
  private readonly maxKeys: number;
  private readonly entries = new Map<string, Entry>();
  private lines = 0;
  /** Reports of pairs that got no line this window (over perWindow or maxKeys), or no summary slot. */
  private untracked = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    limits: PeerLogLimits = {},
  ) {
    this.windowMs = limits.windowMs ?? 10_000;
    this.perPeer = limits.perPeer ?? 5;
    this.perWindow = limits.perWindow ?? 20;
    this.maxKeys = limits.maxKeys ?? 1000;
  }

  /** Logs `msg` for `peer` with `details`, unless the limits say to count it instead. */
  report(level: 'warn' | 'error', peer: string, msg: string, details: Readonly<Record<string, unknown>>): void {
    this.count++;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
    }
    const key = `${peer}\u0000${msg}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      // A pair that cannot get a line this window gets no summary line either: it is only counted.
      if (this.entries.size >= this.maxKeys || this.lines >= this.perWindow) {
        this.untracked++;
        return;
      }
      entry = { level, peer, msg, suppressed: 0, logged: 0 };
      this.entries.set(key, entry);
    }
    if (entry.logged < this.perPeer && this.lines < this.perWindow) {
      entry.logged++;
      this.lines++;
      this.logger[level]({ ...details, peer }, msg);
    } else {
      entry.suppressed++;
    }
  }

  /** Ends the window now: writes its summary lines and forgets its counts. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = Math.round(this.windowMs / 100) / 10;
    let summaries = 0;
    for (const e of this.entries.values()) {
      if (e.suppressed === 0) continue;
      if (summaries < this.perWindow) {
        summaries++;
        this.logger[e.level]({ peer: e.peer, repeated: e.suppressed, windowMs: this.windowMs }, `${e.msg} (repeated ${e.suppressed} times in the last ${seconds} s)`);
      } else {
        this.untracked += e.suppressed;
      }
    }
    if (this.untracked > 0) {
      this.logger.error({ suppressed: this.untracked, windowMs: this.windowMs }, `${this.untracked} more errors caused by peers were not logged in the last ${seconds} s`);
    }
    this.entries.clear();
    this.lines = 0;
    this.untracked = 0;
  }
}
