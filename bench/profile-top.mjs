// Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`), so a
// profile can be kept as a few lines of text instead of a multi-megabyte JSON file.
//
// Usage: node profile-top.mjs FILE.cpuprofile [N=20]
// Self time of a node = its samples × the sampling interval; nodes of the same function (same
// name, script and line) are summed. Paths are shown relative to the repository root.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node profile-top.mjs FILE.cpuprofile [N=20]');
  process.exit(2);
}
const top = Number(topArg ?? 20);
if (!Number.isInteger(top) || top <= 0) {
  console.error(`profile-top: N must be a positive integer, got "${topArg}"`);
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const profile = JSON.parse(readFileSync(file, 'utf8'));
if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) {
  console.error(`profile-top: ${file} is not a V8 .cpuprofile (no nodes/samples)`);
  process.exit(2);
}

// Time per sample: timeDeltas[i] is the time from sample i-1 to sample i (microseconds).
const selfMicros = new Map(); // node id -> µs
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const where = (cf) => {
  if (!cf.url) return '';
  const path = cf.url.startsWith('file://') ? fileURLToPath(cf.url) : cf.url;
  const shown = path.startsWith(root) ? relative(root, path) : path.replace(/^.*node_modules\//, 'node_modules/');
  return `${shown}:${cf.lineNumber + 1}`;
};

const byFunction = new Map(); // "name  where" -> µs
let total = 0;
for (const node of profile.nodes) {
  const us = selfMicros.get(node.id) ?? 0;
  if (us === 0) continue;
  total += us;
  const cf = node.callFrame;
  const key = `${cf.functionName || '(anonymous)'}\t${where(cf)}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}

const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`${file.split('/').pop()}: ${(total / 1e6).toFixed(2)} s sampled, top ${rows.length} by self time`);
console.log(`${'self ms'.padStart(9)} ${'share'.padStart(6)}  function  (script:line)`);
for (const [key, us] of rows) {
  const [name, at] = key.split('\t');
  console.log(`${(us / 1000).toFixed(0).padStart(9)} ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}${at ? `  (${at})` : ''}`);
}
