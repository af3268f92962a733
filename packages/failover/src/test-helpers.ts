import { CheckpointError, type CheckpointStore, type Logger } from '@mobius/interface';
import { expect } from 'vitest';

/** One line a {@link RecordingLogger} received. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string | undefined;
}

/** A logger that keeps every line, for assertions. Children share the parent's lines. */
export class RecordingLogger implements Logger {
  constructor(readonly lines: LogLine[] = []) {}
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
  child(): Logger {
    return new RecordingLogger(this.lines);
  }
  messages(level: LogLine['level']): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg ?? '');
  }
}

/** A promise with its resolve function outside, for waiting on a callback. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The CheckpointError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function checkpointRejection(p: Promise<unknown>): Promise<CheckpointError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a rejection');
}

/** A view of `store` that keeps the promise of every discard, so a test can wait for them. */
export function trackDiscards(store: CheckpointStore): { readonly store: CheckpointStore; readonly discards: Promise<void>[] } {
  const discards: Promise<void>[] = [];
  const tracked: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
    discard: (jobId: string, id: number) => {
      const d = store.discard(jobId, id);
      discards.push(d);
      return d;
    },
  });
  return { store: tracked, discards };
}
