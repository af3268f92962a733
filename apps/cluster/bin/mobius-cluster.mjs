#!/usr/bin/env node
// The `mobius-cluster` command, committed so that npm links it at install time: npm makes no
// link to a bin file missing then, and `dist/` only appears with the build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  process.stderr.write('mobius-cluster: dist/cli.js is missing, the package is not built yet: run npm run build at the repository root\n');
  process.exitCode = 1;
}
