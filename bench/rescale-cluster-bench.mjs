// The cluster variant of rescale-bench.mjs: the same job (log p=2 → parse → keyBy → count p=2 →
// check p=1, KEYS keys with 1000-byte payloads, records arriving at RATE per second) on a
// coordinator and 3 workers (apps/cluster/dist/cli.js, loopback), rescaled 2 → 3
//   (a) live: POST /jobs/:id/rescale { operator: "count", parallelism: 3 }, waiting for its event;
//   (b) the Flink way: POST /jobs/:id/stop { savepoint: true }, then POST /jobs with the same
//       bundle, the reduce's parallelism 3 as the job's argument and `fromSavepoint`.
// The sink task writes, every 50 ms, how many records it took and every gap of 20 ms or more
// between two of them to a file; the source tasks' records come from GET /jobs/:id (every 50 ms;
// task metrics arrive with the heartbeats, every 250 ms). The sink here cannot tell a duplicate
// from a new output (its instance of the new job does not know what the old one saw): for the
// Flink way the time without output is the time from the stop request to the new job's first
// output (no record read after the savepoint counts as output).
//
// Usage: node rescale-cluster-bench.mjs [--quick]   (needs the built cluster: npx turbo run build)
// Env: BENCH_RESCALE_KEYS, BENCH_RESCALE_RATE, BENCH_RESCALE_VARIANTS, as rescale-bench.mjs.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, children, startCli, stopChildren, waitForLine } from './child-processes.mjs';
import { dataDir, fmt, machineInfo } from './corpus.mjs';
import { sampledAt as at } from './rescale-job.mjs';
import { AFTER_MS, BASELINE_MS, KEYS, QUICK, RATE, VARIANTS, WARMUP_MS } from './rescale-settings.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const WORKERS = 3;
const SLOTS = 2;
const HEARTBEAT_MS = 1000;
const POLL_MS = 50;
const tmpRoot = join(dataDir, `rescale-cluster-${randomUUID().slice(0, 8)}`);
const resultsPath = join(dataDir, `rescale-cluster-results${QUICK ? '-quick' : ''}.json`);
const log = (msg) => console.log(`[rescale-cluster-bench] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const pct = (x) => `${(100 * x).toFixed(0)} %`;

/** The job module: argv[2] the reduce's parallelism, argv[3] the name of the sink's progress file. */
function jobModule(dir, t0) {
  return `// Written by bench/rescale-cluster-bench.mjs: the job of rescale-job.mjs, with a sink that
// writes its progress to a file.
import { appendFileSync } from 'node:fs';
import { StreamingContext } from 'mobius';
import { ArrivalClock, LogSource, countWithPayload, parseRecord } from ${JSON.stringify(join(here, 'rescale-job.mjs'))};

const KEYS = ${KEYS};
const reduceP = Number(process.argv[2] ?? 2);
const progress = ${JSON.stringify(dir)} + '/' + (process.argv[3] ?? 'sink') + '.log';

/** Every 50 ms its count of records; every gap of 20 ms or more between two; its first record. */
class ProgressSink {
  n = 0;
  lastAt = 0;
  timer = undefined;
  open() {
    this.timer = setInterval(() => appendFileSync(progress, 'c ' + Date.now() + ' ' + this.n + '\\n'), 50);
  }
  sink() {
    const now = Date.now();
    if (this.lastAt === 0) appendFileSync(progress, 'f ' + now + '\\n');
    else if (now - this.lastAt >= 20) appendFileSync(progress, 'g ' + this.lastAt + ' ' + now + '\\n');
    this.lastAt = now;
    this.n++;
  }
  close() {
    clearInterval(this.timer);
  }
}

const clock = new ArrivalClock({ t0: ${t0}, rate: ${RATE}, keys: KEYS, partitions: 2 });
const ctx = StreamingContext.builder().option('checkpoint.interval.ms', 600000).option('checkpoint.dir', ${JSON.stringify(join(dir, 'ckpt'))}).build();
ctx
  .source(new LogSource(clock, [0, 0])).setParallelism(2).name('log').uid('log')
  .map(parseRecord(KEYS)).name('parse').uid('parse')
  .keyBy((r) => r[0])
  .reduce(countWithPayload).name('count').uid('count').setParallelism(reduceP)
  .sink(new ProgressSink()).name('check').uid('check').setParallelism(1);
await ctx.execute('rescale_cluster');
`;
}

/** The sink's progress file: counts (t, n), gaps ([from, to]) and its first output. */
function readProgress(path, base = 0) {
  const out = { counts: [], gaps: [], first: undefined };
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [k, a, b] = line.split(' ');
    if (k === 'c') out.counts.push({ t: Number(a), n: base + Number(b) });
    else if (k === 'g') out.gaps.push([Number(a), Number(b)]);
    else if (k === 'f') out.first = Number(a);
  }
  return out;
}

async function runVariant(variant) {
  const dir = join(tmpRoot, variant);
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const jobPath = join(dir, 'job.mjs');
  writeFileSync(jobPath, jobModule(dir, t0));
  const { bundleJob } = await import('mobius-cluster');
  const bundle = await bundleJob(jobPath);
  const token = randomUUID();
  const coordinator = startCli(`coordinator (${variant})`, ['coordinator', '--port', '0', '--http-port', '0', '--token', token, '--heartbeat-timeout-ms', String(HEARTBEAT_MS), '--data-dir', join(dir, 'coordinator')]);
  const [, url, control] = await waitForLine(coordinator, /ready: (\S+) control (\S+)/);
  const call = (method, path, body) => api(url, token, method, path, body);
  for (let i = 0; i < WORKERS; i++) startCli(`worker ${i + 1} (${variant})`, ['worker', '--coordinator', control, '--token', token, '--slots', String(SLOTS)]);
  while ((await call('GET', '/workers')).length < WORKERS) await sleep(50);

  let jobId = (await call('POST', '/jobs', { bundle, name: 'rescale_cluster', args: ['2', 'sink-1'] })).id;
  const samples = [];
  let srcDone = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const job = await call('GET', `/jobs/${jobId}`).catch(() => undefined);
      if (job !== undefined) {
        const src = job.tasks.filter((t) => t.vertex.startsWith('log')).reduce((n, t) => n + t.recordsProcessed, 0);
        samples.push({ t: Date.now(), src: srcDone + src, state: job.state, tasks: job.tasks });
      }
      await sleep(POLL_MS);
    }
  })();
  const sinkFile = (n) => join(dir, `sink-${n}.log`);
  while (readProgress(sinkFile(1)).counts.at(-1)?.n < KEYS || readProgress(sinkFile(1)).counts.length === 0) await sleep(100);
  // The log filled while the cluster started: the baseline starts once the sources and the sink caught up.
  const behind = () => KEYS + (RATE * (Date.now() - t0)) / 1000 - (samples.at(-1)?.src ?? 0);
  const sinkBehind = () => (samples.at(-1)?.src ?? 0) - (readProgress(sinkFile(1)).counts.at(-1)?.n ?? 0);
  while (behind() > RATE * 0.5 || sinkBehind() > RATE * 0.5) await sleep(100);
  log(`${variant}: ${fmt(KEYS)} keys loaded and the backlog read ${secs(Date.now() - t0)} after the start; warming up ${secs(WARMUP_MS)}, then ${secs(BASELINE_MS)} of baseline`);
  await sleep(WARMUP_MS + BASELINE_MS);

  const tReq = Date.now();
  let event;
  const phases = {};
  if (variant === 'live') {
    const { id } = await call('POST', `/jobs/${jobId}/rescale`, { operator: 'count', parallelism: 3 });
    for (;;) {
      event = (await call('GET', `/jobs/${jobId}/events`)).find((e) => e.kind === 'rescale' && e.id === id && e.durationMs != null);
      if (event !== undefined) break;
      await sleep(20);
    }
    if (event.failed) throw new Error(`the rescale failed: ${event.failed}`);
  } else {
    const stopped = await call('POST', `/jobs/${jobId}/stop`, { savepoint: true });
    phases.savepointMs = Date.now() - tReq;
    while ((await call('GET', `/jobs/${jobId}`)).state === 'RUNNING') await sleep(20);
    phases.cancelledMs = Date.now() - tReq;
    srcDone = samples.at(-1).src;
    const base = readProgress(sinkFile(1)).counts.at(-1)?.n ?? 0;
    phases.sinkBase = base;
    jobId = (await call('POST', '/jobs', { bundle, name: 'rescale_cluster', args: ['3', 'sink-2'], fromSavepoint: stopped.savepoint.path })).id;
    phases.submittedMs = Date.now() - tReq;
    for (;;) {
      const job = await call('GET', `/jobs/${jobId}`);
      if (job.tasks.length > 0 && job.tasks.every((t) => t.state === 'RUNNING')) break;
      await sleep(20);
    }
  }
  const tDone = variant === 'live' ? tReq + event.durationMs : Date.now();
  await sleep(Math.max(0, tReq + AFTER_MS + 500 - Date.now()));
  polling = false;
  await poller;
  const reduceTasks = samples.at(-1).tasks.filter((t) => t.vertex.startsWith('count')).length;
  await call('POST', `/jobs/${jobId}/cancel`).catch(() => undefined);
  await stopChildren([...children]);

  const p1 = readProgress(sinkFile(1));
  const p2 = readProgress(sinkFile(2), phases.sinkBase ?? 0);
  const counts = [...p1.counts, ...p2.counts].sort((a, b) => a.t - b.t);
  const gaps = [...p1.gaps, ...p2.gaps].filter(([a, b]) => b >= tReq && a <= tReq + AFTER_MS);
  if (variant === 'flink' && p1.counts.length > 0 && p2.first !== undefined) gaps.push([p1.counts.at(-1).t, p2.first]);
  const perSec = (series, field, from, to) => ((at(series, field, to) - at(series, field, from)) * 1000) / (to - from);
  const before = { output: perSec(counts, 'n', tReq - BASELINE_MS, tReq), source: perSec(samples, 'src', tReq - BASELINE_MS, tReq) };
  const during = at(samples, 'src', tDone) - at(samples, 'src', tReq);
  return {
    variant,
    reduceTasksAfter: reduceTasks,
    event: event === undefined ? undefined : { durationMs: event.durationMs, pausedMs: event.pausedMs, keyGroupsMoved: event.keyGroupsMoved, bytesMoved: event.bytesMoved },
    phases,
    durationMs: tDone - tReq,
    before: { outputPerSec: Math.round(before.output), sourcePerSec: Math.round(before.source) },
    noOutputMs: gaps.reduce((m, [a, b]) => Math.max(m, b - a), 0),
    stoppedAtSavepointMs: variant === 'flink' && p2.first !== undefined ? p2.first - tReq : undefined,
    afterOutputFraction: Number((perSec(counts, 'n', tReq, tReq + AFTER_MS) / before.output).toFixed(3)),
    untouched: { records: Math.round(during), fraction: Number((during / ((before.source * (tDone - tReq)) / 1000)).toFixed(3)) },
  };
}

async function main() {
  const machine = machineInfo();
  const load = os.loadavg().map((l) => l.toFixed(2));
  log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${load.join(' ')}`);
  log(`cluster: coordinator + ${WORKERS} workers × ${SLOTS} slots; job: log p=2 → parse → count p=2 → check p=1, ${fmt(KEYS)} keys × 1000 B, ${fmt(RATE)} records/s arriving`);
  const runs = [];
  try {
    for (const variant of VARIANTS) {
      const x = await runVariant(variant);
      runs.push(x);
      console.log(`\n${variant === 'live' ? '(a) live, POST /jobs/:id/rescale' : '(b) the Flink way, stop with a savepoint + resubmit fromSavepoint'}: reduce 2 → ${x.reduceTasksAfter}`);
      console.log(`  before: ${fmt(x.before.outputPerSec)} outputs/s, source → map ${fmt(x.before.sourcePerSec)} records/s`);
      if (x.event) console.log(`  rescale event: durationMs ${x.event.durationMs}, pausedMs ${x.event.pausedMs}, keyGroupsMoved ${x.event.keyGroupsMoved}, bytesMoved ${fmt(x.event.bytesMoved)}`);
      if (x.phases.savepointMs !== undefined) console.log(`  savepoint ${secs(x.phases.savepointMs)}, job ended ${secs(x.phases.cancelledMs)}, resubmitted ${secs(x.phases.submittedMs)} after the request`);
      console.log(`  request → every new task running      ${secs(x.durationMs)}`);
      console.log(`  no output for (longest gap)            ${secs(x.noOutputMs)}${x.stoppedAtSavepointMs === undefined ? '' : `; request → first output of the new job ${secs(x.stoppedAtSavepointMs)}`}`);
      console.log(`  job throughput, 10 s after / before     ${x.afterOutputFraction.toFixed(2)}`);
      console.log(`  source → map during the rescale        ${fmt(x.untouched.records)} records = ${pct(x.untouched.fraction)} of their rate before`);
    }
  } finally {
    await stopChildren([...children]);
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  const live = runs.find((x) => x.variant === 'live');
  const flink = runs.find((x) => x.variant === 'flink');
  if (live && flink) {
    console.log(`\nratio live / Flink way, time without output: ${(live.noOutputMs / flink.noOutputMs).toFixed(3)} (longest gaps), ${(live.noOutputMs / flink.stoppedAtSavepointMs).toFixed(3)} (against request → first output of the new job)`);
  }
  if (live) console.log(`untouched operators during the live rescale: ${pct(live.untouched.fraction)} of their throughput (target >= 90 %)${live.untouched.fraction >= 0.9 ? '' : '  BELOW TARGET'}`);
  writeFileSync(resultsPath, JSON.stringify({ benchmark: 'rescale-cluster', date: new Date().toISOString(), machine, loadAverage: load, keys: KEYS, rate: RATE, runs }, null, 2) + '\n');
  log(`results written to ${relative(here, resultsPath)}`);
}

await main().catch(async (e) => {
  console.error(e);
  await stopChildren([...children]);
  rmSync(tmpRoot, { recursive: true, force: true });
  process.exit(1);
});
