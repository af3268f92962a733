// Shared by the unit tests in ../src (not a job module).
import type { Logger } from '@mobius/interface';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevel;
  /** The bindings of the (child) logger merged with the logged object. */
  readonly obj: Readonly<Record<string, unknown>>;
  readonly msg: string | undefined;
}

/** A Logger that records every call (children write to the same list, with their bindings). */
export class RecordingLogger implements Logger {
  private readonly waiters: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[];

  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Readonly<Record<string, unknown>> = {},
    waiters?: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[],
  ) {
    this.waiters = waiters ?? [];
  }

  private record(level: LogLevel, obj: object, msg?: string): void {
    const entry: LogEntry = { level, obj: { ...this.bindings, ...(obj as Record<string, unknown>) }, msg };
    this.entries.push(entry);
    for (const w of [...this.waiters]) {
      if (w.match(entry)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  }

  debug(obj: object, msg?: string): void {
    this.record('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.record('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.record('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.record('error', obj, msg);
  }
  child(bindings: Readonly<Record<string, unknown>>): Logger {
    return new RecordingLogger(this.entries, { ...this.bindings, ...bindings }, this.waiters);
  }

  /** Resolves with the first entry (already logged or to come) that matches. */
  next(match: (e: LogEntry) => boolean): Promise<LogEntry> {
    const seen = this.entries.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

/** A promise and the function that resolves it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
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

/** Resolves after the current macrotask: lets Node report unhandled rejections of this turn. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
