#!/usr/bin/env node
// Type-checks (lint: tsc --noEmit, test files included) and runs every package's tests through
// turbo (builds first), then prints one summary line
// "N passed, N failed" from the vitest JSON reports, so CI can read the outcome. The folders
// read are the workspaces of the root package.json, so a new workspace (e.g. an example
// plugin) is counted without editing this list.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const folders = workspaces.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return existsSync(join(root, pattern)) ? [join(root, pattern)] : [];
  const parent = join(root, pattern.slice(0, -2));
  return existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : [];
});
for (const dir of folders) rmSync(join(dir, '.test-results'), { recursive: true, force: true });

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
const turbo = spawnSync('npx', ['turbo', 'run', 'lint', 'test', '--concurrency=2', '--continue', ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const dir of folders) {
  const file = join(dir, '.test-results', 'results.json');
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  rows.push(`  ${dir.slice(root.length).padEnd(32)} ${String(r.numPassedTests).padStart(4)} passed ${String(r.numFailedTests).padStart(3)} failed`);
}
console.log('\nTest summary');
for (const row of rows) console.log(row);
const status = turbo.status ?? 1;
if (status !== 0 && failed === 0) failed = 1; // a package failed without a report (build or crash)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
