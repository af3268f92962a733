import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

/**
 * The shared token: from the flag, else MOBIUS_TOKEN, else the file named by --token-file or
 * MOBIUS_TOKEN_FILE. Undefined when none is set.
 */
export function resolveToken(flag: string | undefined, fileFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  if (env.MOBIUS_TOKEN !== undefined && env.MOBIUS_TOKEN !== '') return env.MOBIUS_TOKEN;
  const file = fileFlag ?? env.MOBIUS_TOKEN_FILE;
  if (file !== undefined && file !== '') return readFileSync(file, 'utf8').trim();
  return undefined;
}

/** Constant-time comparison, so the token cannot be guessed from response times. */
export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined) return true;
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
