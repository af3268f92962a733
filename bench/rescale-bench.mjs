// Live rescaling against the Flink way (issue 12), on the same embedded job:
//   source "log" p=2 → map "parse" (chained) → keyBy → reduce "count" p=2 → sink "check" p=1,
// every task on this thread ('execution.threads' 0), the job of rescale-job.mjs.
// The source reads an external log (like a Kafka partition per task) into which records arrive
// at a fixed rate (BENCH_RESCALE_RATE per second in all); a source that fell behind reads the
// backlog as fast as it can. First come KEYS records, one per key, each carrying a distinct
// 1000-byte payload that the reduce keeps in its state (about 100 MB for 100,000 keys); then
// records with keys spread over all KEYS. The reduce counts per key; the sink checks that every
// key's count goes up by one (no loss, no duplicate) and notes every gap between two outputs.
//
// Once the state is loaded and the job ran WARMUP_MS, the throughput is measured for BASELINE_MS;
// then the reduce goes 2 → 3:
//   (a) live: job.rescale('count', 3) while the job runs;
//   (b) the Flink way: a savepoint, cancel, and the same job resubmitted with the reduce at
//       parallelism 3, restoring the savepoint (embedded-savepoint.mjs).
// Printed for both: the longest time without output around the request, the job's throughput
// (new sink outputs per second) in the AFTER_MS after the request as a fraction of before, and
// the records processed by the untouched operators (source → map) while the rescale ran (from
// the request until every new task ran), with their throughput as a fraction of before; the
// ratio live / Flink way of the time without output; and where the time went (rescale-probes.mjs).
// The state's size is the bytes of the reduce's snapshots that the new tasks read (the rescale
// event's bytesMoved; the savepoint's reduce files for the Flink way).
//
// Usage: node --expose-gc rescale-bench.mjs [--quick]   (npm run bench runs it, then the cluster variant)
// Env: BENCH_RESCALE_KEYS (default 100000; --quick 10000), BENCH_RESCALE_RATE (records/s arriving,
//      default 20000), BENCH_RESCALE_ROUNDS (default 1; rounds alternate the order),
//      BENCH_RESCALE_VARIANTS (default "live,flink"), BENCH_RESCALE_CREDITS (a diagnosis, not a
//      setting of the figures: the jobs' 'runtime.channel.credits', default the runtime's own).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dataDir, fmt, machineInfo, mb } from './corpus.mjs';
import { jobMasterOf, stopWithSavepoint, submitFromSavepoint } from './embedded-savepoint.mjs';
import { ArrivalClock, LogSource, PAYLOAD_BYTES, countWithPayload, parseRecord, sampledAt as at } from './rescale-job.mjs';
import { installProbes, summarizeSpans } from './rescale-probes.mjs';
import { AFTER_MS, BASELINE_MS, KEYS, QUICK, RATE, VARIANTS, WARMUP_MS } from './rescale-settings.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROUNDS = Number(process.env.BENCH_RESCALE_ROUNDS ?? 1);
const CREDITS = process.env.BENCH_RESCALE_CREDITS === undefined ? undefined : Number(process.env.BENCH_RESCALE_CREDITS);
const SOURCE_P = 2;
const FROM = 2;
const TO = 3;
/** Gaps between two sink outputs shorter than this are not kept. */
const GAP_MIN_MS = 20;
const SAMPLE_MS = 50;
/**
 * Periodic checkpoints are far apart, so that none falls into the measurement: the live rescale
 * and the savepoint are then the only snapshots taken (a checkpoint store is needed for both).
 */
const CHECKPOINT_MS = 600_000;
const resultsPath = join(dataDir, `rescale-results${QUICK ? '-quick' : ''}${CREDITS === undefined ? '' : `-credits-${CREDITS}`}.json`);
const tmpRoot = join(dataDir, `rescale-${randomUUID().slice(0, 8)}`);

const log = (msg) => console.log(`[rescale-bench] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const pct = (x) => `${(100 * x).toFixed(0)} %`;

if (typeof global.gc !== 'function') {
  console.error('Run with --expose-gc (npm run bench does).');
  process.exit(2);
}
process.once('SIGINT', () => {
  rmSync(tmpRoot, { recursive: true, force: true });
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// The job
// ---------------------------------------------------------------------------------------------

/** What the sink saw: new outputs, duplicates, lost counts, and the gaps between new outputs. */
function checkingSink() {
  const last = new Int32Array(KEYS);
  // firstOutputAt: the first output (new or not) after `firstOutputAt` was reset to 0.
  const s = { fresh: 0, dups: 0, lost: 0, keys: 0, lastAt: 0, firstOutputAt: -1, gaps: [], loaded: undefined, onLoaded: undefined };
  s.loaded = new Promise((resolve) => (s.onLoaded = resolve));
  s.fn = (r) => {
    const k = r[0];
    const n = r[1];
    const prev = last[k];
    if (s.firstOutputAt === 0) s.firstOutputAt = Date.now();
    if (n <= prev) {
      s.dups++;
      return;
    }
    // Gaps between new outputs: a duplicate (the Flink way's records read again after the
    // savepoint) is no progress.
    const now = Date.now();
    if (now - s.lastAt >= GAP_MIN_MS && s.lastAt > 0) s.gaps.push([s.lastAt, now]);
    s.lastAt = now;
    if (n !== prev + 1) s.lost += n - prev - 1;
    if (prev === 0 && ++s.keys === KEYS) s.onLoaded();
    last[k] = n;
    s.fresh++;
  };
  return s;
}

async function buildContext(reduceParallelism, clock, highWater, sink, checkpointDir) {
  const { StreamingContext } = await import('mobius');
  const builder = StreamingContext.builder().option('execution.threads', 0).option('checkpoint.interval.ms', CHECKPOINT_MS).option('checkpoint.dir', checkpointDir);
  if (CREDITS !== undefined) builder.option('runtime.channel.credits', CREDITS);
  const ctx = builder.build();
  ctx
    .source(new LogSource(clock, highWater))
    .setParallelism(SOURCE_P)
    .name('log')
    .uid('log')
    .map(parseRecord(KEYS))
    .name('parse')
    .uid('parse')
    .keyBy((r) => r[0])
    .reduce(countWithPayload)
    .name('count')
    .uid('count')
    .setParallelism(reduceParallelism)
    .sink(sink.fn)
    .name('check')
    .uid('check')
    .setParallelism(1);
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// One run: start, load, baseline, rescale one way, observe
// ---------------------------------------------------------------------------------------------

const isSource = (m) => m.vertexName.startsWith('log');
const sumSource = (job, field) => job.metrics().filter(isSource).reduce((n, m) => n + m[field], 0);

/** Waits until every task of `job` is RUNNING (the embedded handle has no event for it). */
async function allRunning(job) {
  const master = jobMasterOf(job);
  while (master.tasks.size === 0 || [...master.tasks.values()].some((t) => t.state !== 'RUNNING')) await sleep(2);
}

async function runVariant(variant, probes) {
  const checkpointDir = join(tmpRoot, variant);
  mkdirSync(checkpointDir, { recursive: true });
  global.gc();
  global.gc();
  const clock = new ArrivalClock({ t0: Date.now(), rate: RATE, keys: KEYS, partitions: SOURCE_P });
  const highWater = new Array(SOURCE_P).fill(0);
  const sink = checkingSink();
  const name = `rescale-bench-${variant}`;
  let job = await (await buildContext(FROM, clock, highWater, sink, checkpointDir)).submit(name);

  // Samples every SAMPLE_MS: new sink outputs, source → map records (summed over the jobs), the log.
  const samples = [];
  let srcDone = 0; // records of the source tasks of jobs already cancelled
  let running = job; // undefined between the Flink way's cancel and its resubmission
  const sample = () =>
    samples.push({ t: Date.now(), fresh: sink.fresh, src: srcDone + (running === undefined ? 0 : sumSource(running, 'recordsIn')), read: highWater.reduce((a, b) => a + b, 0), arrived: clock.arrived() * SOURCE_P });
  const sampler = setInterval(sample, SAMPLE_MS);
  const loadStart = Date.now();
  await sink.loaded;
  log(`${variant}: ${fmt(KEYS)} keys loaded in ${secs(Date.now() - loadStart)}; warming up ${secs(WARMUP_MS)}, then ${secs(BASELINE_MS)} of baseline`);
  await sleep(WARMUP_MS + BASELINE_MS);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  probes.reset();
  sample();
  const tReq = Date.now();
  loop.enable();
  const phases = {};
  let event;
  let savepointBytes = 0;
  if (variant === 'live') {
    event = await job.rescale('count', TO);
  } else {
    const { metadata, savedAt } = await stopWithSavepoint(job);
    phases.savepointMs = savedAt - tReq;
    phases.cancelledMs = Date.now() - tReq;
    sample();
    srcDone += sumSource(job, 'recordsIn');
    running = undefined;
    savepointBytes = reduceFileBytes(checkpointDir, metadata);
    const ctx = await buildContext(TO, clock, highWater, sink, checkpointDir);
    sink.firstOutputAt = 0;
    job = await submitFromSavepoint(ctx, name, metadata, checkpointDir);
    running = job;
    phases.submittedMs = Date.now() - tReq;
  }
  if (variant === 'flink') await allRunning(job);
  const tDone = variant === 'live' ? tReq + event.durationMs : Date.now();
  sample();
  await sleep(Math.max(0, tReq + AFTER_MS + 2 * SAMPLE_MS - Date.now()));
  loop.disable();
  sample();
  clearInterval(sampler);
  const tasks = job.metrics().filter((m) => m.vertexName.startsWith('count')).length;
  await job.cancel();
  const spans = summarizeSpans(probes.spans, tReq);
  // Where the savepoint's barrier reached the reduce: what a stop at the savepoint would have output last.
  const reduceSnapshots = probes.spans.filter((x) => x.kind === 'state snapshot' && x.who.startsWith('count') && x.start >= tReq);
  phases.barrierAtReduceMs = reduceSnapshots.length > 0 ? Math.min(...reduceSnapshots.map((x) => x.start)) - tReq : undefined;
  if (variant === 'flink' && sink.firstOutputAt > 0) phases.firstOutputOfNewJobMs = sink.firstOutputAt - tReq;
  return analyse({ variant, samples, sink, tReq, tDone, event, phases, spans, savepointBytes, tasks, loopMaxMs: loop.max / 1e6 });
}

/** Bytes of the reduce's task files in a savepoint. */
function reduceFileBytes(checkpointDir, metadata) {
  const dir = join(checkpointDir, metadata.jobId, `chk-${metadata.checkpointId}`);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => f.startsWith('count'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

function analyse(r) {
  const { samples, sink, tReq, tDone } = r;
  const perSec = (field, from, to) => ((at(samples, field, to) - at(samples, field, from)) * 1000) / (to - from);
  const before = { output: perSec('fresh', tReq - BASELINE_MS, tReq), source: perSec('src', tReq - BASELINE_MS, tReq) };
  const durationMs = tDone - tReq;
  // The longest gap between two sink outputs that overlaps [request, request + AFTER_MS].
  const gaps = sink.gaps.filter(([a, b]) => b >= tReq && a <= tReq + AFTER_MS);
  const longest = gaps.reduce((x, g) => (x === undefined || g[1] - g[0] > x[1] - x[0] ? g : x), undefined);
  // The baseline's own longest gap: what "no output" is when nothing happens.
  const baseGap = sink.gaps.filter(([a, b]) => a >= tReq - BASELINE_MS && b <= tReq).reduce((m, [a, b]) => Math.max(m, b - a), 0);
  const during = {
    records: at(samples, 'src', tDone) - at(samples, 'src', tReq),
    newRecords: at(samples, 'read', tDone) - at(samples, 'read', tReq),
  };
  during.fraction = durationMs > 0 ? during.records / ((before.source * durationMs) / 1000) : 1;
  during.newFraction = durationMs > 0 ? during.newRecords / ((before.source * durationMs) / 1000) : 1;
  const after = {
    outputFraction: perSec('fresh', tReq, tReq + AFTER_MS) / before.output,
    sourceFraction: perSec('src', tReq, tReq + AFTER_MS) / before.source,
  };
  // The thread was held by synchronous work (every task runs on it) for about as long as the
  // sampler's timer came late: summed over the rescale.
  let blockedMs = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a.t >= tReq && b.t <= tDone) blockedMs += Math.max(0, b.t - a.t - SAMPLE_MS);
  }
  let maxBacklog = 0;
  for (const s of samples) if (s.t >= tReq && s.t <= tReq + AFTER_MS) maxBacklog = Math.max(maxBacklog, s.arrived - s.read);
  const e = r.event;
  return {
    variant: r.variant,
    keys: KEYS,
    stateBytes: e !== undefined ? e.bytesMoved : r.savepointBytes,
    reduceTasksAfter: r.tasks,
    before: { outputPerSec: Math.round(before.output), sourcePerSec: Math.round(before.source), longestGapMs: baseGap },
    durationMs,
    event: e === undefined ? undefined : { durationMs: e.durationMs, pausedMs: e.pausedMs, keyGroupsMoved: e.keyGroupsMoved, bytesMoved: e.bytesMoved, checkpointId: e.checkpointId },
    phases: r.phases,
    noOutputMs: longest === undefined ? 0 : longest[1] - longest[0],
    noOutputFromMs: longest === undefined ? null : longest[0] - tReq,
    // Every gap of GAP_MIN_MS or more in the same window, added up (the Flink way has two: the savepoint, the restart).
    noOutputSumMs: gaps.reduce((n, [a, b]) => n + Math.min(b, tReq + AFTER_MS) - Math.max(a, tReq), 0),
    afterOutputFraction: Number(after.outputFraction.toFixed(3)),
    afterSourceFraction: Number(after.sourceFraction.toFixed(3)),
    untouched: { records: Math.round(during.records), newRecords: Math.round(during.newRecords), fraction: Number(during.fraction.toFixed(3)), newFraction: Number(during.newFraction.toFixed(3)) },
    maxBacklog,
    threadBlockedMs: blockedMs,
    longestEventLoopBlockMs: Math.round(r.loopMaxMs),
    spans: r.spans,
    sink: { fresh: sink.fresh, duplicates: sink.dups, lost: sink.lost },
  };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function printRun(x) {
  const title = x.variant === 'live' ? '(a) live rescale, job.rescale' : '(b) the Flink way, savepoint + resubmit';
  console.log(`\n${title}: reduce ${FROM} → ${x.reduceTasksAfter}, ${(x.stateBytes / 1e6).toFixed(1)} MB (${mb(x.stateBytes)} MiB) of reduce state (${x.variant === 'live' ? "the event's bytesMoved" : "the savepoint's reduce files"})`);
  console.log(`  before: ${fmt(x.before.outputPerSec)} outputs/s, source → map ${fmt(x.before.sourcePerSec)} records/s, longest gap between outputs ${x.before.longestGapMs} ms`);
  console.log(`  request → every new task running      ${secs(x.durationMs)}`);
  if (x.event) console.log(`  rescale event: durationMs ${x.event.durationMs}, pausedMs ${x.event.pausedMs}, keyGroupsMoved ${x.event.keyGroupsMoved}, bytesMoved ${fmt(x.event.bytesMoved)}`);
  if (x.phases.savepointMs !== undefined) console.log(`  savepoint ${secs(x.phases.savepointMs)}, cancelled at ${secs(x.phases.cancelledMs)}, resubmitted at ${secs(x.phases.submittedMs)} after the request`);
  console.log(`  no output for                          ${secs(x.noOutputMs)}${x.noOutputFromMs === null ? '' : ` (from ${secs(x.noOutputFromMs)} after the request)`}; gaps of ${GAP_MIN_MS} ms or more add up to ${secs(x.noOutputSumMs)}`);
  console.log(`  job throughput, ${AFTER_MS / 1000} s after / before     ${x.afterOutputFraction.toFixed(2)}  (source → map: ${x.afterSourceFraction.toFixed(2)})`);
  const u = x.untouched;
  console.log(`  source → map during the rescale        ${fmt(u.records)} records = ${pct(u.fraction)} of their rate before${u.newRecords !== u.records ? ` (${fmt(u.newRecords)} not read before = ${pct(u.newFraction)})` : ''}`);
  console.log(`  thread held by synchronous work during the rescale about ${secs(x.threadBlockedMs)} (longest block ${x.longestEventLoopBlockMs} ms); largest backlog in the log ${fmt(x.maxBacklog)} records`);
  if (x.phases.firstOutputOfNewJobMs !== undefined && x.phases.barrierAtReduceMs !== undefined) {
    console.log(`  stopped at the savepoint (sources stopping at its barrier, or an exactly-once sink): no output for ${secs(x.phases.firstOutputOfNewJobMs - x.phases.barrierAtReduceMs)} (barrier at the reduce ${secs(x.phases.barrierAtReduceMs)}, first output of the new job ${secs(x.phases.firstOutputOfNewJobMs)} after the request)`);
  }
  console.log(`  sink: ${fmt(x.sink.fresh)} new outputs, ${fmt(x.sink.duplicates)} duplicates, ${fmt(x.sink.lost)} lost`);
  console.log('  where the time went (ms after the request: first start – last end; calls, the longest one, MiB):');
  for (const s of x.spans) console.log(`    ${s.kind.padEnd(20)} ${String(s.fromMs).padStart(6)} – ${String(s.toMs).padEnd(6)} ${String(s.calls).padStart(3)}×, longest ${String(s.longestMs).padStart(5)} ms ${s.bytes > 0 ? `${mb(s.bytes).padStart(7)} MiB` : ''}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const machine = machineInfo();
  const load = os.loadavg().map((l) => l.toFixed(2));
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${load.join(' ')}`);
  log(`job: log p=${SOURCE_P} → parse → keyBy → count p=${FROM} → check p=1, ${fmt(KEYS)} keys × ${PAYLOAD_BYTES} B, ${fmt(RATE)} records/s arriving; ${ROUNDS} round(s) of ${VARIANTS.join(', ')}${CREDITS === undefined ? '' : `; runtime.channel.credits ${CREDITS} (a diagnosis)`}`);
  const probes = installProbes();
  if (probes.missing.length > 0) log(`probes not installed (the breakdown lacks them): ${probes.missing.join(', ')}`);
  const runs = [];
  const started = Date.now();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const x = await runVariant(variant, probes);
        x.round = round + 1;
        runs.push(x);
        printRun(x);
      }
    }
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  const of = (v) => runs.filter((x) => x.variant === v);
  const live = of('live');
  const flink = of('flink');
  console.log(`\nRescale of the reduce ${FROM} → ${TO}, ${fmt(KEYS)} keys (${machine.cores} cores, load average at the start ${load[0]}), ${ROUNDS > 1 ? `median of ${ROUNDS}` : 'one run each'}:`);
  const row = (label, f, show) => console.log(`  ${label.padEnd(44)} ${(live.length ? show(median(live.map(f))) : 'n/a').padStart(10)} ${(flink.length ? show(median(flink.map(f))) : 'n/a').padStart(12)}`);
  console.log(`  ${''.padEnd(44)} ${'live'.padStart(10)} ${'Flink way'.padStart(12)}`);
  row('time without output (longest gap)', (x) => x.noOutputMs, secs);
  row(`  every gap of ${GAP_MIN_MS} ms or more, added up`, (x) => x.noOutputSumMs, secs);
  if (flink.some((x) => x.phases.firstOutputOfNewJobMs !== undefined)) {
    console.log(`  ${'  Flink way stopped at the savepoint'.padEnd(44)} ${'n/a'.padStart(10)} ${secs(median(flink.map((x) => x.phases.firstOutputOfNewJobMs - x.phases.barrierAtReduceMs))).padStart(12)}`);
  }
  row(`job throughput ${AFTER_MS / 1000} s after / before`, (x) => x.afterOutputFraction, (v) => v.toFixed(2));
  row('source → map records during the rescale', (x) => x.untouched.records, fmt);
  row('  as a fraction of their rate before', (x) => x.untouched.fraction, pct);
  row('request → every new task running', (x) => x.durationMs, secs);
  const exact = live.every((x) => x.sink.duplicates === 0 && x.sink.lost === 0) && flink.every((x) => x.sink.lost === 0);
  if (live.length && flink.length) {
    const liveGap = median(live.map((x) => x.noOutputMs));
    console.log(`  ratio live / Flink way, time without output: ${(liveGap / median(flink.map((x) => x.noOutputMs))).toFixed(3)}`);
    const stopped = flink.filter((x) => x.phases.firstOutputOfNewJobMs !== undefined).map((x) => x.phases.firstOutputOfNewJobMs - x.phases.barrierAtReduceMs);
    if (stopped.length > 0) console.log(`  ratio live / Flink way stopped at the savepoint, time without output: ${(liveGap / median(stopped)).toFixed(3)}`);
  }
  if (live.length) {
    const f = median(live.map((x) => x.untouched.fraction));
    console.log(`  untouched operators during the live rescale: ${pct(f)} of their throughput (target >= 90 %)${f >= 0.9 ? '' : '  BELOW TARGET'}`);
  }
  if (!exact) console.log('  NOT EXACT: the live rescale lost or duplicated outputs, or the Flink way lost some (see the runs above)');
  const results = { benchmark: 'rescale', date: new Date().toISOString(), machine, loadAverage: load, quick: QUICK, keys: KEYS, payloadBytes: PAYLOAD_BYTES, rate: RATE, credits: CREDITS ?? null, wallSeconds: Math.round((Date.now() - started) / 1000), runs };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  log(`results written to ${relative(here, resultsPath)} (${results.wallSeconds} s in all)`);
  if (!exact) process.exitCode = 1;
}

// A failed run leaves its job's timers behind: exit rather than hang.
await main().catch((e) => {
  console.error(e);
  rmSync(tmpRoot, { recursive: true, force: true });
  process.exit(1);
});
