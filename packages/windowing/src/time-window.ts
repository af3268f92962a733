/**
 * Windows (Flink's TimeWindow and GlobalWindow). A window is a plain value: two windows are the
 * same window when their bounds are equal, so windows survive a checkpoint as `{ start, end }`.
 */

/** What every window has: the largest timestamp it holds (its event-time timer fires there). */
export interface Window {
  maxTimestamp(): number;
}

/** `[start, end)`: `start` included, `end` excluded. */
export class TimeWindow implements Window {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /** `end - 1`: a window's results carry this timestamp and fire when the watermark reaches it. */
  maxTimestamp(): number {
    return this.end - 1;
  }

  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window that covers both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  equals(other: Window): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }

  toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }
}

/** The one window of GlobalWindows: it never ends, so only a trigger (a count) fires it. */
export class GlobalWindow implements Window {
  static readonly INSTANCE = new GlobalWindow();
  private constructor() {}

  /** The largest safe integer: an event-time timer there fires only at the watermark +Infinity. */
  maxTimestamp(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  equals(other: Window): boolean {
    return other === this;
  }

  toString(): string {
    return 'GlobalWindow';
  }
}

/**
 * The start of the window of size `windowSize` (and `offset`) that holds `timestamp`, exactly as
 * Flink's `TimeWindow.getWindowStartWithOffset`, negative timestamps included: the remainder is
 * taken toward zero and corrected when negative.
 */
export function getWindowStartWithOffset(timestamp: number, offset: number, windowSize: number): number {
  const remainder = (timestamp - offset) % windowSize;
  return remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder;
}
