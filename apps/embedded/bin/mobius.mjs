#!/usr/bin/env node
// The `mobius` command. Committed (not built) so that `npm ci` links the command at install
// time, before `dist/` exists; it loads the built CLI.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('mobius: the package is not built (dist/cli.js is missing): run npm run build at the repository root\n');
  process.exit(1);
}
await import(cli.href);
