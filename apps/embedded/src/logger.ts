import pino from 'pino';
import type { Logger } from '@mobius/interface';

/**
 * Structured logs (pino, JSON lines) on stderr, so a job's own output on stdout stays clean.
 * Level from MOBIUS_LOG_LEVEL (default `warn` in embedded mode).
 */
export function createLogger(level = process.env.MOBIUS_LOG_LEVEL ?? 'warn'): Logger {
  return pino({ name: 'mobius', level }, pino.destination({ fd: 2, sync: true })) as unknown as Logger;
}
