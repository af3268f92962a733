import { MobiusError } from '@mobius/interface';

/** Parsed command line: positionals and `--flag value` / `--flag=value` / boolean `--flag`. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (eq >= 0) flags.set(name, arg.slice(eq + 1));
    else if (booleans.includes(name)) flags.set(name, true);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else throw new MobiusError('USAGE', `--${name} needs a value`);
  }
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return v === true ? undefined : v;
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new MobiusError('USAGE', `--${name} must be an integer of at least ${min}, got '${v}'`);
  return n;
}

/** Rejects flags a command does not know, naming them. */
export function checkFlags(args: ParsedArgs, command: string, known: readonly string[]): void {
  for (const name of args.flags.keys()) {
    if (!known.includes(name)) throw new MobiusError('USAGE', `mobius-cluster ${command}: unknown flag --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
  }
}
