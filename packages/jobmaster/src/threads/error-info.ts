import { MobiusError } from '@mobius/interface';
import type { ErrorInfo } from './task-thread-protocol.js';

/** An error as it can cross to another thread: its name, message, code and stack. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined, stack: e.stack };
  }
  return { name: 'Error', message: String(e) };
}

/** The error again, on this side: a `MobiusError` with the original code (else `TASK_FAILED`), name and stack. */
export function errorFromInfo(info: ErrorInfo): MobiusError {
  const error = new MobiusError(info.code ?? 'TASK_FAILED', info.message);
  if (info.stack !== undefined) error.stack = info.stack;
  return error;
}
