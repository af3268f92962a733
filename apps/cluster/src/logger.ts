import pino from 'pino';
import type { Logger } from '@mobius/interface';

/** Structured JSON lines on stderr; level from MOBIUS_LOG_LEVEL (default info for cluster processes). */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  const level = process.env.MOBIUS_LOG_LEVEL ?? 'info';
  return pino({ name, level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true })) as unknown as Logger;
}
