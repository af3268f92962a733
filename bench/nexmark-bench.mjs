// Nexmark: events/s of each query built so far, in embedded mode at parallelism 1 and 2, beside
// the nexmark project's published Flink figures per core, with a baseline in the same run (the
// generator alone, no engine) because this machine is shared and noisy.
//
// Rate = generated events / wall-clock seconds from execute() to the job's end (the sink is a
// no-op: a black hole, as the Flink runs' 'blackhole' connector). Best of BENCH_ROUNDS.
//
// Usage: node --expose-gc nexmark-bench.mjs   (part of npm run bench; gc between runs when exposed)
// Env: BENCH_NEXMARK_EVENTS (default 200000), BENCH_ROUNDS (default 2),
//      BENCH_NEXMARK_QUERIES (comma list, e.g. q0,q3; default every query built).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StreamingContext } from 'mobius';
import { NEXMARK_QUERIES, NexmarkGenerator } from '@mobius/nexmark';
import { mobiusRunReport } from './child-processes.mjs';
import { dataDir, fmt, log, machineInfo } from './corpus.mjs';

const jobPath = join(dataDir, 'nexmark-job.mjs');
const EVENTS = Number(process.env.BENCH_NEXMARK_EVENTS ?? 200_000);
const THREAD_EVENTS = Number(process.env.BENCH_NEXMARK_THREAD_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SEED = 42;

/** Events/s per core, Flink 1.13 with RocksDB (the nexmark project's README). */
const FLINK_PER_CORE = { q0: 155_000, q1: 158_000, q2: 175_000, q3: 152_000, q4: 34_000, q5: 22_000, q7: 12_000, q8: 146_000, q11: 39_700 };

const queries = (process.env.BENCH_NEXMARK_QUERIES ?? Object.keys(NEXMARK_QUERIES).join(',')).split(',').filter(Boolean);
for (const q of queries) {
  if (!(q in NEXMARK_QUERIES)) {
    console.error(`BENCH_NEXMARK_QUERIES: unknown or not yet built query "${q}" (built: ${Object.keys(NEXMARK_QUERIES).join(', ')})`);
    process.exit(2);
  }
}
for (const [name, n] of [['BENCH_NEXMARK_EVENTS', EVENTS], ['BENCH_NEXMARK_THREAD_EVENTS', THREAD_EVENTS]]) {
  if (!(Number.isSafeInteger(n) && n > 0)) {
    console.error(`${name} must be a positive integer, got ${process.env[name]}`);
    process.exit(2);
  }
}

const config = { count: EVENTS, seed: SEED };

function baseline() {
  globalThis.gc?.();
  const g = new NexmarkGenerator(config);
  const t0 = performance.now();
  let bytes = 0;
  for (let k = 0; k < EVENTS; k++) bytes += g.event(k).extra.length;
  const s = (performance.now() - t0) / 1000;
  if (bytes === 0) throw new Error('no events');
  return EVENTS / s;
}

async function runQuery(name, parallelism) {
  globalThis.gc?.();
  const ctx = StreamingContext.builder().option('parallelism.default', parallelism).build();
  let out = 0;
  NEXMARK_QUERIES[name].build(ctx, config).sink(() => {
    out++;
  });
  const t0 = performance.now();
  await ctx.execute(`nexmark-${name}-p${parallelism}`);
  const s = (performance.now() - t0) / 1000;
  return { rate: EVENTS / s, seconds: s, out };
}

/**
 * The same query as a job module run by `mobius run` on task threads (one thread per task, so
 * p=2 uses both cores). The time is execute()'s, so it includes each thread's import of the
 * module (a fraction of a second): hence more events than the in-process runs.
 */
function writeJob() {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    jobPath,
    `// Written by bench/nexmark-bench.mjs. Arguments: <query> <parallelism> <events> <seed>.
import { StreamingContext } from 'mobius';
import { NEXMARK_QUERIES } from '@mobius/nexmark';
const [query, parallelism, count, seed] = process.argv.slice(2);
const ctx = StreamingContext.builder().option('parallelism.default', Number(parallelism)).option('execution.threads', Number(parallelism)).build();
NEXMARK_QUERIES[query].build(ctx, { count: Number(count), seed: Number(seed) }).sink(() => undefined);
const t0 = performance.now();
const result = await ctx.execute('nexmark_' + query);
const seconds = (performance.now() - t0) / 1000;
const events = result.tasks.filter((t) => t.vertexName.startsWith('nexmark')).reduce((n, t) => n + t.recordsIn, 0);
if (process.env.MOBIUS_BENCH_REPORT === '1') console.log(JSON.stringify({ seconds, events }));
`,
  );
}

async function threadRun(name, parallelism) {
  const r = await mobiusRunReport(jobPath, [name, String(parallelism), String(THREAD_EVENTS), String(SEED)], `${name} p${parallelism}`);
  if (r.events !== THREAD_EVENTS) throw new Error(`${name} p${parallelism} on threads: the source emitted ${r.events} events, not ${THREAD_EVENTS}`);
  return { rate: THREAD_EVENTS / r.seconds, seconds: r.seconds };
}

writeJob();
log(`Nexmark: ${fmt(EVENTS)} events per run (seed ${SEED}), best of ${ROUNDS}; queries ${queries.join(', ')}`);
baseline(); // warm-up: the generator's code is shared by every query, and cold it runs at a third of its speed
const best = { baseline: 0 };
const outputs = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? queries : [...queries].reverse();
  for (const name of order) {
    // The baseline again before each query: on a shared machine the load moves within a run.
    best.baseline = Math.max(best.baseline, baseline());
    for (const p of [1, 2]) {
      const r = await runQuery(name, p);
      const key = `${name}@${p}`;
      best[key] = Math.max(best[key] ?? 0, r.rate);
      if (outputs[name] !== undefined && outputs[name] !== r.out) throw new Error(`${name}: ${r.out} results at p=${p}, ${outputs[name]} before`);
      outputs[name] = r.out;
      log(`round ${round + 1} ${name} p=${p}: ${fmt(r.rate)} events/s (${r.seconds.toFixed(2)} s, ${fmt(r.out)} results)`);
      const t = await threadRun(name, p);
      best[`${name}@${p}t`] = Math.max(best[`${name}@${p}t`] ?? 0, t.rate);
      log(`round ${round + 1} ${name} p=${p} on ${p} task thread(s): ${fmt(t.rate)} events/s (${t.seconds.toFixed(2)} s for ${fmt(THREAD_EVENTS)})`);
    }
  }
}

const rows = [['query', 'one thread p=1', 'one thread p=2', 'task threads p=1', 'task threads p=2', 'Flink per core', 'one thread p=1 / Flink', 'one thread p=1 / generator alone']];
rows.push(['generator alone', fmt(best.baseline), '', '', '', '', '', '1.00']);
for (const name of Object.keys(FLINK_PER_CORE)) {
  const p1 = best[`${name}@1`];
  const p2 = best[`${name}@2`];
  if (p1 === undefined) {
    rows.push([name, name in NEXMARK_QUERIES ? 'not run (BENCH_NEXMARK_QUERIES)' : 'not built yet', '', '', '', fmt(FLINK_PER_CORE[name]), '', '']);
    continue;
  }
  rows.push([name, fmt(p1), fmt(p2), fmt(best[`${name}@1t`]), fmt(best[`${name}@2t`]), fmt(FLINK_PER_CORE[name]), `${(p1 / FLINK_PER_CORE[name]).toFixed(2)}×`, `${(p1 / best.baseline).toFixed(2)}`]);
}
console.log();
console.log(`| ${rows[0].join(' | ')} |`);
console.log(`| ${rows[0].map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`);

mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'nexmark-results.json'), JSON.stringify({ machine: machineInfo(), events: EVENTS, rounds: ROUNDS, best, outputs, flinkPerCore: FLINK_PER_CORE }, null, 2));
