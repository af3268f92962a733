import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopback, resolveToken, tokenMatches } from './token.js';

describe('the shared token', () => {
  it('comes from the flag, else MOBIUS_TOKEN, else a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mobius-token-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'from-file\n');
      expect(resolveToken('from-flag', file, { MOBIUS_TOKEN: 'from-env' })).toBe('from-flag');
      expect(resolveToken(undefined, file, { MOBIUS_TOKEN: 'from-env' })).toBe('from-env');
      expect(resolveToken(undefined, file, {})).toBe('from-file');
      expect(resolveToken(undefined, undefined, { MOBIUS_TOKEN_FILE: file })).toBe('from-file');
      expect(resolveToken(undefined, undefined, {})).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches exactly, and anything when none is configured', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', undefined)).toBe(false);
    expect(tokenMatches(undefined, undefined)).toBe(true);
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });
});
