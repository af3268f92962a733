import { describe, expect, it } from 'vitest';
import { checkFlags, intFlag, parseArgs, stringFlag } from './args.js';

describe('command-line parsing', () => {
  it('reads positionals, --flag value, --flag=value and boolean flags', () => {
    const args = parseArgs(['submit', 'job.ts', '--url', 'http://x', '--name=wc', '--wait'], ['wait']);
    expect(args.positionals).toEqual(['submit', 'job.ts']);
    expect(stringFlag(args, 'url')).toBe('http://x');
    expect(stringFlag(args, 'name')).toBe('wc');
    expect(args.flags.get('wait')).toBe(true);
  });

  it('a flag without its value is an error naming it', () => {
    expect(() => parseArgs(['--port'])).toThrow(/--port needs a value/);
  });

  it('integer flags are checked', () => {
    expect(intFlag(parseArgs(['--slots', '3']), 'slots', 4, 1)).toBe(3);
    expect(intFlag(parseArgs([]), 'slots', 4, 1)).toBe(4);
    expect(() => intFlag(parseArgs(['--slots', '0']), 'slots', 4, 1)).toThrow(/--slots must be an integer of at least 1, got '0'/);
    expect(() => intFlag(parseArgs(['--port', 'abc']), 'port', 1)).toThrow(/--port must be an integer/);
  });

  it('unknown flags are refused by name', () => {
    expect(() => checkFlags(parseArgs(['--prot', '1']), 'coordinator', ['port'])).toThrow(/mobius-cluster coordinator: unknown flag --prot \(known: --port\)/);
  });
});
