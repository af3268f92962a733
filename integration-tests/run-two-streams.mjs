#!/usr/bin/env node
// Runs the integration test files in two concurrent streams, each one file at a time (as
// vitest.config.ts asks). test-durations.json lists the files that keep the CPU busy (whole word
// counts, CPU-bound maps, throughput and memory measurements): they all run in stream A, one
// after another, so two of them never compete for the 2 cores. The others mostly wait on paced
// jobs and child processes: stream B, plus whatever balances the streams by the recorded seconds
// (a file not listed counts 15 s). Two streams take about half the wall time of one.
// Each stream writes its own vitest JSON report; they are merged into .test-results/results.json
// (what scripts/run-tests.mjs reads). Extra arguments go to both vitest runs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const results = join(here, '.test-results');
mkdirSync(results, { recursive: true });
const durations = existsSync(join(here, 'test-durations.json')) ? JSON.parse(readFileSync(join(here, 'test-durations.json'), 'utf8')) : {};
const files = readdirSync(join(here, 'src'))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `src/${f}`);
const seconds = durations.seconds ?? {};
const cpuBound = new Set(durations.cpuBound ?? []);
const weight = (f) => seconds[f] ?? 15;
const streams = [
  { name: 'A', files: [], total: 0 },
  { name: 'B', files: [], total: 0 },
];
const add = (s, f) => {
  s.files.push(f);
  s.total += weight(f);
};
for (const f of files.filter((f) => cpuBound.has(f))) add(streams[0], f);
for (const f of files.filter((f) => !cpuBound.has(f)).sort((a, b) => weight(b) - weight(a))) add(streams[0].total < streams[1].total ? streams[0] : streams[1], f);

function runStream(s) {
  return new Promise((resolve) => {
    const out = join(results, `results-${s.name}.json`);
    const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2), ...s.files];
    console.log(`stream ${s.name}: ${s.files.length} files, about ${Math.round(s.total)} s`);
    const child = spawn('npx', args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MOBIUS_TEST_STREAM: s.name } });
    const prefix = (stream, target) => {
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop();
        for (const line of lines) target.write(`[${s.name}] ${line}\n`);
      });
      stream.on('end', () => rest && target.write(`[${s.name}] ${rest}\n`));
    };
    prefix(child.stdout, process.stdout);
    prefix(child.stderr, process.stderr);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const ran = await Promise.all(streams.filter((s) => s.files.length > 0).map(runStream));
const merged = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numTotalTests: 0, success: true, testResults: [] };
for (const r of ran) {
  if (!existsSync(r.out)) {
    merged.success = false;
    continue;
  }
  const j = JSON.parse(readFileSync(r.out, 'utf8'));
  for (const k of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests', 'numTotalTests']) merged[k] += j[k] ?? 0;
  merged.success &&= j.success !== false;
  merged.testResults.push(...(j.testResults ?? []));
}
writeFileSync(join(results, 'results.json'), JSON.stringify(merged));
process.exit(ran.every((r) => r.code === 0) ? 0 : 1);
