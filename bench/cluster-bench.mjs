// Over 400 lines on purpose: this is one script, a sequence of measurement parts that share their
// setup (builds, corpus, processes) and run as one process so their numbers come from the same run.
//
// Cluster word count against its physical limit, in one run:
//   1. Mobius cluster    a coordinator and 2 worker processes (apps/cluster/dist/cli.js, loopback,
//                        ephemeral ports, a random token) run the seed word count at parallelism 2,
//                        submitted through the HTTP API (POST /jobs with a bundle from bundleJob).
//   2. raw ZeroMQ        two processes and no engine: A reads the corpus, splits words, makes
//                        [w, 1] pairs, packs 1024 per frame with msgpackr (the transport's codec
//                        options) and sends them on a zeromq Push with a bounded send queue; B
//                        (a child process, this same file) Pulls, decodes and counts into a Map.
// Records = words (whitespace-split, non-empty tokens) of the same 50 MiB corpus as
// word-count-bench.mjs. Each side runs BENCH_CLUSTER_ROUNDS times (default 3), the two sides
// alternating; the best rate of each counts. Every child process is stopped at the end (SIGTERM,
// then SIGKILL after 5 s), also on errors and on SIGINT/SIGTERM.
//
// Usage: node cluster-bench.mjs   (npm run bench runs it after word-count-bench.mjs)
// Needs the built cluster: npx turbo run build --filter=mobius-cluster
// Env: BENCH_CLUSTER_ROUNDS (default 3), BENCH_CORPUS_BYTES (default 52428800 = 50 MiB),
//      BENCH_CLUSTER_WORKER_NODE_ARGS (extra node flags for the two workers, space-separated, e.g.
//      "--cpu-prof --cpu-prof-dir=/tmp/prof"; the profiles are written when the workers stop).
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { Pull, Push } from 'zeromq';
import { api, children, clusterCli, cpuSecondsOf, startCli, stopChildren, track, waitForLine } from './child-processes.mjs';
import { SEED, corpusPath, dataDir, ensureCorpus, fmt, machineInfo, mb } from './corpus.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const selfPath = fileURLToPath(import.meta.url);
const resultsPath = join(dataDir, 'cluster-results.json');
const jobPath = join(dataDir, 'cluster-word-count-job.mjs');
const ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 3);
const PARALLELISM = 2;
const WORKERS = 2;
const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** Records per frame: the engine's default runtime.batch.size. */
const BATCH = 1024;
/** Frames a raw sender may queue (the engine's default runtime.channel.credits). */
const HWM = 8;
/** The channel name of the raw frames: the shape of a cluster channel id (job id / plan channel). */
const CHANNEL = `${'00000000-0000-0000-0000-000000000000'}/map-3->reduce-4:0->0`;
const JOB_TIMEOUT_MS = 90_000;

const log = (msg) => console.log(`[cluster-bench] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The transport's codec (MsgpackCodec): plain msgpack, bigints round-trip. */
const newPackr = () => new Packr({ useRecords: false, useBigIntExtension: true });

// ---------------------------------------------------------------------------------------------
// The chunked line reader of word-count-bench.mjs' plain loop (1 MiB fs.readSync chunks, cut at
// the last newline, decoded in one go, split('\n')), as a generator of each chunk's lines.
// ---------------------------------------------------------------------------------------------

function* lineChunks(path) {
  const fd = openSync(path, 'r');
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const buf = Buffer.allocUnsafe(carry.length + CHUNK);
      carry.copy(buf, 0);
      const bytesRead = readSync(fd, buf, carry.length, CHUNK, null);
      const end = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (end > 0) yield [buf.toString('utf8', 0, end)]; // last line without a newline
        return;
      }
      const lastNl = buf.lastIndexOf(NEWLINE, end - 1);
      if (lastNl < 0) {
        carry = Buffer.from(buf.subarray(0, end));
        continue;
      }
      yield buf.toString('utf8', 0, lastNl).split('\n');
      carry = Buffer.from(buf.subarray(lastNl + 1, end));
    }
  } finally {
    closeSync(fd);
  }
}

/** The transport's frame layout (MsgpackCodec.encode): one msgpack array per frame. */
const frameArray = (kind, seq, records) => [CHANNEL, kind, seq, records === null ? 0 : records.length, records, null, null, null];

// ---------------------------------------------------------------------------------------------
// Raw receiver (process B, a child of this file): Pull, decode, count into a Map.
// ---------------------------------------------------------------------------------------------

async function rawReceiver() {
  const packr = newPackr();
  let pull;
  process.on('message', async (cmd) => {
    if (cmd.type === 'listen') {
      pull = new Pull({ linger: 0, receiveHighWaterMark: HWM });
      await pull.bind('tcp://127.0.0.1:0');
      process.send({ type: 'ready', endpoint: pull.lastEndpoint });
      const cpu0 = process.cpuUsage();
      const counts = new Map();
      let records = 0;
      let frames = 0;
      let first = 0;
      for await (const [msg] of pull) {
        const f = packr.unpack(msg);
        if (f[1] === 'end') break;
        if (frames++ === 0) first = performance.now();
        const pairs = f[4];
        records += f[3];
        // The reduce: sum the pairs' counts per word.
        for (let i = 0; i < pairs.length; i++) {
          const p = pairs[i];
          counts.set(p[0], (counts.get(p[0]) ?? 0) + p[1]);
        }
      }
      const seconds = (performance.now() - first) / 1000;
      let distinct = 0;
      for (const w of counts.keys()) if (!w.includes('ray')) distinct++;
      const cpu = process.cpuUsage(cpu0);
      process.send({ type: 'done', records, frames, distinct, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
      pull.close();
      pull = undefined;
    } else if (cmd.type === 'exit') {
      pull?.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Main process: children, corpus, cluster side, raw side.
// ---------------------------------------------------------------------------------------------

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping ${children.size} child process(es)`);
    void stopChildren(undefined, log).finally(() => process.exit(130));
  });
}

function writeJobFile() {
  // The seed word count (examples/word-count/word-count.ts) with a sink that only counts. It lives
  // under bench/.data/ so that `import 'mobius'` resolves to the workspace's package.
  writeFileSync(
    jobPath,
    `// Written by bench/cluster-bench.mjs: the seed word count at parallelism ${PARALLELISM}, a sink that only counts.
import { StreamingContext } from 'mobius';

let sunk = 0;
const ctx = StreamingContext.builder().option('parallelism.default', ${PARALLELISM}).build();
ctx
  .readTextFile(${JSON.stringify(corpusPath)})
  .flatMap((line) => line.split(/\\s+/).filter((w) => w.length > 0))
  .map((word) => [word, 1])
  .keyBy((pair) => pair[0])
  .reduce((a, b) => [a[0], a[1] + b[1]])
  .filter((pair) => !pair[0].includes('ray'))
  .sink(() => {
    sunk++;
  });
await ctx.execute('cluster_word_count');
`,
  );
}

/** Starts the coordinator and the workers; returns run(round), which runs the job once. */
async function startCluster(expectedWords) {
  if (!existsSync(clusterCli)) throw new Error(`${clusterCli} is missing: build it first (npx turbo run build --filter=mobius-cluster)`);
  const { bundleJob } = await import('mobius-cluster');
  writeJobFile();
  const bundle = await bundleJob(jobPath);
  const token = randomUUID();
  const coordinator = startCli('coordinator', ['coordinator', '--port', '0', '--http-port', '0', '--token', token]);
  const [, url, control] = await waitForLine(coordinator, /mobius coordinator ready: (\S+) control (\S+)/);
  log(`cluster: coordinator pid ${coordinator.child.pid} ready: ${url} control ${control}`);
  const workerNodeArgs = (process.env.BENCH_CLUSTER_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const workers = [];
  for (let i = 0; i < WORKERS; i++) workers.push(startCli(`worker ${i + 1}`, ['worker', '--coordinator', control, '--token', token], { nodeArgs: workerNodeArgs }));
  for (const w of workers) {
    const [, id, endpoint] = await waitForLine(w, /mobius worker (\S+) ready: (\S+)/);
    log(`cluster: worker ${id} (pid ${w.child.pid}) ready: ${endpoint}`);
  }
  for (const deadline = Date.now() + 30_000; ; ) {
    const list = await api(url, token, 'GET', '/workers');
    if (list.length === WORKERS) break;
    if (Date.now() > deadline) throw new Error(`expected ${WORKERS} workers registered, have ${list.length}`);
    await sleep(50);
  }

  const procs = [coordinator, ...workers];
  const run = async (round) => {
    const cpu0 = procs.map((p) => cpuSecondsOf(p.child.pid));
    const t0 = performance.now();
    const submitted = await api(url, token, 'POST', '/jobs', { bundle, name: `cluster_word_count_${round}` });
    let job;
    for (const deadline = Date.now() + JOB_TIMEOUT_MS; ; ) {
      job = await api(url, token, 'GET', `/jobs/${submitted.id}`);
      if (job.state === 'FINISHED' || job.state === 'FAILED' || job.state === 'CANCELED') break;
      if (Date.now() > deadline) throw new Error(`job ${submitted.id} still ${job.state} after ${JOB_TIMEOUT_MS / 1000} s`);
      await sleep(20);
    }
    const wallSeconds = (performance.now() - t0) / 1000;
    if (job.state !== 'FINISHED') throw new Error(`cluster job ${job.id} ended ${job.state}: ${job.error}`);
    const cpu = procs.map((p, i) => Number(((cpuSecondsOf(p.child.pid) ?? NaN) - (cpu0[i] ?? NaN)).toFixed(2)));
    const reduceTasks = job.tasks.filter((t) => String(t.vertex).startsWith('reduce'));
    const words = reduceTasks.reduce((n, t) => n + t.recordsIn, 0);
    const jobSeconds = (job.endTime - job.startTime) / 1000;
    const rate = words / jobSeconds;
    const placement = job.tasks.map((t) => `${t.vertex}#${t.index}@w${workers.findIndex((w) => String(t.workerId).includes(String(w.child.pid))) + 1}`).join(' ');
    const result = {
      round,
      jobId: job.id,
      words,
      jobSeconds,
      wallSeconds: Number(wallSeconds.toFixed(3)),
      recordsPerSec: Math.round(rate),
      reduceRecordsIn: reduceTasks.map((t) => t.recordsIn),
      cpuSeconds: { coordinator: cpu[0], workers: cpu.slice(1) },
      placement,
    };
    log(
      `cluster round ${round}/${ROUNDS}: ${fmt(words)} words, job ${jobSeconds.toFixed(2)} s (start→end) = ${fmt(rate).padStart(11)} words/s; ` +
        `wall submit→FINISHED ${wallSeconds.toFixed(2)} s; CPU s coordinator ${cpu[0]}, workers ${cpu.slice(1).join(' / ')}`,
    );
    if (round === 1) log(`cluster: placement ${placement}`);
    if (expectedWords !== undefined && words !== expectedWords) throw new Error(`cluster counted ${words} words in the reduce tasks, expected ${expectedWords}`);
    return result;
  };
  return { run };
}

// --- 2. raw ZeroMQ ------------------------------------------------------------------------------

function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.type === type) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code, signal) => reject(new Error(`the raw receiver exited (${code ?? signal}) while waiting for '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function runRawOnce(receiver) {
  receiver.child.send({ type: 'listen' });
  const { endpoint } = await nextMessage(receiver.child, 'ready');
  const done = nextMessage(receiver.child, 'done');
  const packr = newPackr();
  const push = new Push({ linger: 2000, sendHighWaterMark: HWM });
  push.connect(endpoint);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let seq = 0;
  let records = 0;
  let bytes = 0;
  let batch = [];
  for (const lines of lineChunks(corpusPath)) {
    for (let l = 0; l < lines.length; l++) {
      const words = lines[l].split(/\s+/);
      for (let i = 0; i < words.length; i++) {
        const w = words[i];
        if (w.length === 0) continue;
        batch.push([w, 1]);
        if (batch.length === BATCH) {
          records += BATCH;
          // send() waits while HWM frames are queued: bounded memory, like channel credits.
          const msg = packr.pack(frameArray('data', seq++, batch));
          bytes += msg.length;
          await push.send(msg);
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) {
    records += batch.length;
    const msg = packr.pack(frameArray('data', seq++, batch));
    bytes += msg.length;
    await push.send(msg);
  }
  await push.send(packr.pack(frameArray('end', seq++, null)));
  const result = await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  push.close();
  if (result.records !== records) throw new Error(`the raw receiver counted ${result.records} words, the sender sent ${records}`);
  return { records, frames: seq - 1, bytes, seconds, distinct: result.distinct, senderCpuSeconds: (cpu.user + cpu.system) / 1e6, receiverCpuSeconds: result.cpuSeconds };
}

/** Starts the receiver process; returns run(round), which passes the corpus once, and stop(). */
function startRaw(expectedWords) {
  const receiver = track(fork(selfPath, ['raw-receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'raw receiver');
  log(`raw: sender pid ${process.pid} → receiver pid ${receiver.child.pid}, ${BATCH} pairs per frame, sendHighWaterMark ${HWM}`);
  const run = async (round) => {
    const r = await runRawOnce(receiver);
    const rate = r.records / r.seconds;
    const result = {
      round,
      words: r.records,
      frames: r.frames,
      bytes: r.bytes,
      seconds: Number(r.seconds.toFixed(3)),
      recordsPerSec: Math.round(rate),
      distinctWordsWithoutRay: r.distinct,
      cpuSeconds: { sender: Number(r.senderCpuSeconds.toFixed(2)), receiver: Number(r.receiverCpuSeconds.toFixed(2)) },
    };
    log(
      `raw     round ${round}/${ROUNDS}: ${fmt(r.records)} words in ${fmt(r.frames)} frames (${fmt(r.bytes / r.frames)} B each), ${r.seconds.toFixed(2)} s = ${fmt(rate).padStart(11)} words/s; ` +
        `CPU s sender ${r.senderCpuSeconds.toFixed(2)}, receiver ${r.receiverCpuSeconds.toFixed(2)}`,
    );
    if (expectedWords !== undefined && r.records !== expectedWords) throw new Error(`raw side counted ${r.records} words, expected ${expectedWords}`);
    return result;
  };
  const stop = async () => {
    receiver.child.send({ type: 'exit' });
    await Promise.race([receiver.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
  };
  return { run, stop };
}

// --- main ---------------------------------------------------------------------------------------

async function main() {
  const wallStart = performance.now();
  const machine = machineInfo();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
  await ensureCorpus((child) => track(child, 'make-corpus'));
  const fileBytes = statSync(corpusPath).size;
  // The seed-7 corpus of the default size has a known word count; other sizes are checked by
  // comparing the two sides with each other.
  const expectedWords = fileBytes === 52_428_827 ? 11_226_655 : undefined;
  log(`file: ${corpusPath}, ${fmt(fileBytes)} bytes (${mb(fileBytes)} MiB)${expectedWords ? `, ${fmt(expectedWords)} words` : ''}`);

  log(`cluster: starting a coordinator and ${WORKERS} workers (${clusterCli})`);
  const cluster = await startCluster(expectedWords);
  log('raw: starting the receiver process');
  const raw = startRaw(expectedWords);
  // The two sides alternate (cluster first in odd rounds, raw first in even ones), so a burst of
  // load from elsewhere on the machine does not hit only one of them. Between its runs, each
  // side's processes sit idle.
  const clusterRuns = [];
  const rawRuns = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? ['cluster', 'raw'] : ['raw', 'cluster'];
    for (const side of order) {
      if (side === 'cluster') clusterRuns.push(await cluster.run(round));
      else rawRuns.push(await raw.run(round));
    }
  }
  await raw.stop();
  log(`stopping the coordinator and the workers`);
  await stopChildren(undefined, log);
  if (expectedWords === undefined && clusterRuns[0].words !== rawRuns[0].words) {
    throw new Error(`the cluster counted ${clusterRuns[0].words} words, the raw side ${rawRuns[0].words}`);
  }

  const best = (runs) => runs.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
  const bestCluster = best(clusterRuns);
  const bestRaw = best(rawRuns);
  const ratio = bestCluster.recordsPerSec / bestRaw.recordsPerSec;
  const words = rawRuns[0].words;

  console.log('');
  console.log(`Cluster word count against raw ZeroMQ, ${fmt(words)} words (${mb(fileBytes)} MiB), best of ${ROUNDS}`);
  console.log(`Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  console.log('');
  const header = `${'side'.padEnd(48)}${'words/s'.padStart(14)}${'best s'.padStart(9)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  console.log(`${`Mobius cluster (2 workers, p=${PARALLELISM}), job start→end`.padEnd(48)}${fmt(bestCluster.recordsPerSec).padStart(14)}${bestCluster.jobSeconds.toFixed(2).padStart(9)}`);
  console.log(`${'raw ZeroMQ push/pull + msgpackr, no engine'.padEnd(48)}${fmt(bestRaw.recordsPerSec).padStart(14)}${bestRaw.seconds.toFixed(2).padStart(9)}`);
  console.log('');
  console.log(`Cluster wall time, submit → FINISHED (best run): ${bestCluster.wallSeconds.toFixed(2)} s (${fmt(words / bestCluster.wallSeconds)} words/s)`);
  // CPU time per word does not depend on how busy the machine was: it shows how much more work the
  // cluster does for the same words (coordinator + workers against sender + receiver).
  const cpuOf = (r) => (r.cpuSeconds.workers ? r.cpuSeconds.coordinator + r.cpuSeconds.workers.reduce((a, b) => a + b, 0) : r.cpuSeconds.sender + r.cpuSeconds.receiver);
  const cpuPerMillion = (runs) => Math.min(...runs.map((r) => (cpuOf(r) / r.words) * 1e6));
  const clusterCpu = cpuPerMillion(clusterRuns);
  const rawCpu = cpuPerMillion(rawRuns);
  console.log(`Ratio cluster/raw: ${ratio.toFixed(2)} (target >= 0.50) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);
  console.log(`CPU per million words (lowest run, all processes of a side): cluster ${clusterCpu.toFixed(3)} s, raw ${rawCpu.toFixed(3)} s (raw/cluster ${(rawCpu / clusterCpu).toFixed(2)})`);

  writeFileSync(
    resultsPath,
    JSON.stringify(
      {
        benchmark: 'cluster-word-count-vs-raw-zeromq',
        date: new Date().toISOString(),
        machine,
        file: { path: relative(here, corpusPath), bytes: fileBytes, seed: SEED, words },
        rounds: ROUNDS,
        cluster: { workers: WORKERS, parallelism: PARALLELISM, bestRecordsPerSec: bestCluster.recordsPerSec, bestJobSeconds: bestCluster.jobSeconds, bestWallSeconds: bestCluster.wallSeconds, runs: clusterRuns },
        raw: { pairsPerFrame: BATCH, sendHighWaterMark: HWM, receiveHighWaterMark: HWM, bestRecordsPerSec: bestRaw.recordsPerSec, bestSeconds: bestRaw.seconds, runs: rawRuns },
        ratioClusterToRaw: Number(ratio.toFixed(4)),
        cpuSecondsPerMillionWords: { cluster: Number(clusterCpu.toFixed(4)), raw: Number(rawCpu.toFixed(4)) },
        target: 0.5,
        wallSeconds: Number(((performance.now() - wallStart) / 1000).toFixed(1)),
      },
      null,
      2,
    ) + '\n',
  );
  log(`results written to ${resultsPath} (${((performance.now() - wallStart) / 1000).toFixed(0)} s in all)`);
}

if (process.argv[2] === 'raw-receiver') {
  await rawReceiver();
} else {
  try {
    await main();
  } catch (e) {
    process.exitCode = 1;
    console.error(`[cluster-bench] failed: ${e instanceof Error ? e.stack : String(e)}`);
    for (const c of children) if (c.stderr) console.error(`[cluster-bench] ${c.name} stderr (tail):\n${c.stderr.slice(-3000)}`);
  } finally {
    await stopChildren(undefined, log);
  }
}
