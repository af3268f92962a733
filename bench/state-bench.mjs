// Over 400 lines on purpose: this is one script, a sequence of measurement parts that share their
// setup (builds, corpus, processes) and run as one process so their numbers come from the same run.
//
// Checkpoints and state backends, in one run:
//   1. checkpoint cost: the embedded word count (50 MiB corpus, p=1, memory backend, counting
//      sink) with 'checkpoint.interval.ms' 1000 against the same job without checkpoints, once
//      with the default 'failover.strategy' (single-task: replay buffers keep every record sent
//      since the last completed checkpoint) and once with 'global' (checkpointing alone);
//   2. LevelDB against memory: a keyed reduce over 1,000,000 distinct keys (2,000,000 records,
//      each key twice) with 'state.backend' 'level' against 'memory';
//   3. restore time of a ~1 GB task state (1,000,000 keys × 1 KiB values): LevelStateBackend
//      snapshot → restore into a fresh task state → every sampled value readable, and the same
//      through MemoryStateBackend. Runs in a child process with a larger heap.
// Parts 1 and 2 alternate their two sides and report the best of each; every side is checked.
//
// Usage: node --expose-gc state-bench.mjs   (npm run bench runs it after the other two)
// Env: BENCH_STATE_ROUNDS (rounds of parts 1 and 2; default 5 for part 1, whose two sides
//      differ by less than the machine's noise between runs, and 3 for part 2), BENCH_STATE_PARTS (default
//      "1,2,3"), BENCH_STATE_KEYS (default 1000000: keys of part 3, 1 KiB each),
//      BENCH_STATE_RESTORES (default 2: restores, and memory snapshots, of part 3; the best
//      counts), BENCH_CORPUS_BYTES (as for the word-count benchmark),
//      BENCH_STATE_CHILD_NODE_ARGS (extra node flags for the part-3 child, for example
//      "--cpu-prof --cpu-prof-dir=$PWD/.data/prof").
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusPath, dataDir, ensureCorpus, fmt, log, machineInfo, mb } from './corpus.mjs';
import { payloadMaker } from './payloads.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const selfPath = fileURLToPath(import.meta.url);
const resultsPath = join(dataDir, 'state-results.json');
const ckptDir = join(dataDir, 'ckpt');
const restoreDir = join(dataDir, 'state-restore');
const CKPT_ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 5);
const ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 3);
const PARTS = new Set((process.env.BENCH_STATE_PARTS ?? '1,2,3').split(',').map((s) => s.trim()));
const RESTORE_KEYS = Number(process.env.BENCH_STATE_KEYS ?? 1_000_000);
const RESTORES = Number(process.env.BENCH_STATE_RESTORES ?? 2);
const VALUE_BYTES = 1024;
const REDUCE_KEYS = 1_000_000;
const REDUCE_RECORDS = 2 * REDUCE_KEYS;
const LEVEL_CACHE = 100_000;
const secs = (ms) => (ms / 1000).toFixed(2);
const gib = (bytes) => (bytes / 1024 ** 3).toFixed(2);

if (typeof global.gc !== 'function') {
  console.error('Run with --expose-gc (npm run bench does).');
  process.exit(2);
}


// =============================================================================================
// Part 1: checkpoints every 1 s against none (embedded word count, counting sink)
// =============================================================================================

/**
 * Wraps Task.prototype.checkpoint (the task's part of a checkpoint, awaited inside its loop) to
 * add up the wall time tasks spend in it. A diagnostic only: it is called once per checkpoint
 * per task, so it costs nothing measurable. Returns undefined if the method is not there.
 */
async function instrumentCheckpoints() {
  const { Task } = await import('@mobius/runtime');
  const original = Task.prototype.checkpoint;
  if (typeof original !== 'function') return undefined;
  const acc = { calls: 0, ms: 0, maxMs: 0, perVertex: new Map() };
  Task.prototype.checkpoint = async function (barrier) {
    const t0 = performance.now();
    try {
      return await original.call(this, barrier);
    } finally {
      const ms = performance.now() - t0;
      acc.calls++;
      acc.ms += ms;
      if (ms > acc.maxMs) acc.maxMs = ms;
      const name = this.vertex?.name ?? '?';
      acc.perVertex.set(name, (acc.perVertex.get(name) ?? 0) + ms);
    }
  };
  return {
    reset() {
      acc.calls = 0;
      acc.ms = 0;
      acc.maxMs = 0;
      acc.perVertex = new Map();
    },
    read: () => ({ calls: acc.calls, ms: Math.round(acc.ms), maxMs: Math.round(acc.maxMs), perVertexMs: Object.fromEntries([...acc.perVertex].map(([k, v]) => [k, Math.round(v)])) }),
  };
}

/** Completed checkpoints under `ckptDir`: chk-* folders with a _metadata.json, and their bytes. */
function completedCheckpoints() {
  let count = 0;
  let largest = 0;
  if (!existsSync(ckptDir)) return { count, largestBytes: 0 };
  for (const job of readdirSync(ckptDir)) {
    const jobDir = join(ckptDir, job);
    if (!statSync(jobDir).isDirectory()) continue;
    for (const chk of readdirSync(jobDir)) {
      if (!/^chk-\d+$/.test(chk) || !existsSync(join(jobDir, chk, '_metadata.json'))) continue;
      count++;
      let bytes = 0;
      for (const f of readdirSync(join(jobDir, chk))) bytes += statSync(join(jobDir, chk, f)).size;
      if (bytes > largest) largest = bytes;
    }
  }
  return { count, largestBytes: largest };
}

async function wordCount(StreamingContext, checkpoints, strategy) {
  const builder = StreamingContext.builder().option('parallelism.default', 1).option('state.backend', 'memory');
  if (strategy !== undefined) builder.option('failover.strategy', strategy);
  if (checkpoints) {
    rmSync(ckptDir, { recursive: true, force: true });
    mkdirSync(ckptDir, { recursive: true });
    builder.option('checkpoint.interval.ms', 1000).option('checkpoint.dir', ckptDir).option('checkpoint.retained', 1000);
  }
  const ctx = builder.build();
  let sunk = 0;
  ctx
    .readTextFile(corpusPath)
    .flatMap((line) => line.split(/\s+/).filter((w) => w.length > 0))
    .map((word) => [word, 1])
    .keyBy((pair) => pair[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .filter((pair) => !pair[0].includes('ray'))
    .sink(() => {
      sunk++;
    });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await ctx.execute(checkpoints ? 'word_count_ckpt' : 'word_count');
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (result.state !== 'FINISHED') throw new Error(`word count ended ${result.state}`);
  const records = result.tasks.filter((t) => t.vertexName.startsWith('reduce')).reduce((n, t) => n + t.recordsIn, 0);
  return { records, sunk, ms, cpuSeconds: (cpu.user + cpu.system) / 1e6, checkpoints: checkpoints ? completedCheckpoints() : undefined };
}

async function partCheckpoints(StreamingContext) {
  await ensureCorpus();
  const fileBytes = statSync(corpusPath).size;
  log(`part 1: word count over ${relative(process.cwd(), corpusPath) || corpusPath} (${mb(fileBytes)} MiB), p=1, memory backend, counting sink`);
  log(`part 1: checkpoints every 1000 ms into ${relative(process.cwd(), ckptDir)} (retained 1000) against none, best of ${CKPT_ROUNDS}, alternating`);
  const probe = await instrumentCheckpoints();
  const sides = [
    { id: 'none', name: 'no checkpoints', checkpoints: false },
    { id: 'ckpt', name: 'checkpoint every 1 s', checkpoints: true },
    // The same checkpoints without replay buffers: what checkpointing itself costs, apart from
    // keeping records for single-task recovery (the default strategy).
    { id: 'global', name: 'same, strategy global', checkpoints: true, strategy: 'global' },
  ];
  const runs = [];
  let reference;
  for (let round = 0; round < CKPT_ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      global.gc();
      global.gc();
      probe?.reset();
      const r = await wordCount(StreamingContext, side.checkpoints, side.strategy);
      const rate = r.records / (r.ms / 1000);
      const inCheckpoint = side.checkpoints ? probe?.read() : undefined;
      runs.push({ round: round + 1, side: side.id, records: r.records, sunk: r.sunk, seconds: Number((r.ms / 1000).toFixed(3)), cpuSeconds: Number(r.cpuSeconds.toFixed(3)), recordsPerSec: Math.round(rate), checkpoints: r.checkpoints, inCheckpoint });
      let extra = '';
      if (side.checkpoints) {
        extra = `, ${r.checkpoints.count} checkpoints completed (largest ${mb(r.checkpoints.largestBytes)} MiB)`;
        if (inCheckpoint) extra += `, tasks in checkpoint() ${inCheckpoint.ms} ms over ${inCheckpoint.calls} calls`;
      }
      log(`part 1: round ${round + 1}/${CKPT_ROUNDS} ${side.name.padEnd(21)} ${fmt(r.records)} words in ${secs(r.ms)} s = ${fmt(rate).padStart(10)} words/s, CPU ${r.cpuSeconds.toFixed(2)} s${extra}`);
      reference ??= { records: r.records, sunk: r.sunk };
      if (r.records !== reference.records || r.sunk !== reference.sunk) {
        throw new Error(`part 1: ${side.name} saw ${r.records} words / ${r.sunk} sink records, expected ${reference.records} / ${reference.sunk}`);
      }
    }
  }
  rmSync(ckptDir, { recursive: true, force: true });
  const best = (id) => runs.filter((r) => r.side === id).reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
  const none = best('none');
  const ckpt = best('ckpt');
  const globalSide = best('global');
  const ratio = ckpt.recordsPerSec / none.recordsPerSec;
  // CPU seconds (process-wide, libuv threads included) do not depend on how busy the machine is: the least of each side.
  const minCpu = (id) => Math.min(...runs.filter((r) => r.side === id).map((r) => r.cpuSeconds));
  return {
    words: reference.records,
    sinkRecords: reference.sunk,
    none: { bestRecordsPerSec: none.recordsPerSec, bestSeconds: none.seconds },
    ckpt: { bestRecordsPerSec: ckpt.recordsPerSec, bestSeconds: ckpt.seconds, checkpointsCompleted: ckpt.checkpoints.count, largestCheckpointBytes: ckpt.checkpoints.largestBytes, inCheckpoint: ckpt.inCheckpoint },
    global: { bestRecordsPerSec: globalSide.recordsPerSec, bestSeconds: globalSide.seconds, checkpointsCompleted: globalSide.checkpoints.count },
    ratio: Number(ratio.toFixed(4)),
    globalRatio: Number((globalSide.recordsPerSec / none.recordsPerSec).toFixed(4)),
    minCpuSeconds: { none: minCpu('none'), ckpt: minCpu('ckpt'), global: minCpu('global') },
    cpuRatio: Number((minCpu('none') / minCpu('ckpt')).toFixed(4)),
    globalCpuRatio: Number((minCpu('none') / minCpu('global')).toFixed(4)),
    runs,
  };
}

// =============================================================================================
// Part 2: LevelDB against memory, keyed reduce over 1,000,000 distinct keys
// =============================================================================================

/** 2,000,000 [key, 1] pairs, key = i % 1,000,000 (each key twice, the second pass in the same order). */
function pairSource(total, keys) {
  let i = 0;
  return {
    fetch(ctx) {
      const end = Math.min(total, i + 1024);
      for (; i < end; i++) ctx.collect([i % keys, 1]);
      if (i >= total) ctx.end();
    },
  };
}

/** The level backend of the embedded runner keeps its working copy in <tmp>/mobius-state/<jobId>: removed here. */
function removeLevelWorkingCopy(jobId) {
  const root = join(tmpdir(), 'mobius-state');
  const dir = join(root, jobId);
  const bytes = existsSync(dir) ? dirBytes(dir) : 0;
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(root);
  } catch {
    // other jobs' folders are there (or it is gone already)
  }
  return bytes;
}

async function keyedReduce(StreamingContext, backend) {
  const builder = StreamingContext.builder().option('parallelism.default', 1).option('state.backend', backend);
  if (backend === 'level') builder.option('state.level.cache-entries', LEVEL_CACHE);
  const ctx = builder.build();
  let sunk = 0;
  let finals = 0;
  ctx
    .source(pairSource(REDUCE_RECORDS, REDUCE_KEYS))
    .keyBy((p) => p[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .sink((p) => {
      sunk++;
      if (p[1] === 2) finals++;
    });
  const t0 = performance.now();
  const result = await ctx.execute(`keyed_reduce_${backend}`);
  const ms = performance.now() - t0;
  if (result.state !== 'FINISHED') throw new Error(`keyed reduce (${backend}) ended ${result.state}`);
  const leftBytes = backend === 'level' ? removeLevelWorkingCopy(result.jobId) : 0;
  const records = result.tasks.filter((t) => t.vertexName.startsWith('reduce')).reduce((n, t) => n + t.recordsIn, 0);
  if (records !== REDUCE_RECORDS || sunk !== REDUCE_RECORDS || finals !== REDUCE_KEYS) {
    throw new Error(`keyed reduce (${backend}): ${records} records in, ${sunk} out, ${finals} keys reached 2; expected ${REDUCE_RECORDS}, ${REDUCE_RECORDS}, ${REDUCE_KEYS}`);
  }
  return { records, ms, leftBytes };
}

async function partBackends(StreamingContext) {
  log(`part 2: keyed reduce, ${fmt(REDUCE_RECORDS)} records over ${fmt(REDUCE_KEYS)} distinct keys (each twice), p=1, counting sink`);
  log(`part 2: 'state.backend' memory against level ('state.level.cache-entries' ${fmt(LEVEL_CACHE)}), best of ${ROUNDS}, alternating`);
  const sides = ['memory', 'level'];
  const runs = [];
  let leftBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const backend of order) {
      global.gc();
      global.gc();
      const r = await keyedReduce(StreamingContext, backend);
      leftBytes = Math.max(leftBytes, r.leftBytes);
      const rate = r.records / (r.ms / 1000);
      runs.push({ round: round + 1, backend, records: r.records, seconds: Number((r.ms / 1000).toFixed(3)), recordsPerSec: Math.round(rate) });
      log(`part 2: round ${round + 1}/${ROUNDS} ${backend.padEnd(6)} ${fmt(r.records)} records in ${secs(r.ms).padStart(6)} s = ${fmt(rate).padStart(10)} records/s (every key reached 2)`);
    }
  }
  if (leftBytes > 0) log(`part 2: each level job left its LevelDB working copy (up to ${mb(leftBytes)} MiB) in ${join(tmpdir(), 'mobius-state')}/<jobId> after it finished; removed`);
  const best = (id) => runs.filter((r) => r.backend === id).reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
  const memory = best('memory');
  const level = best('level');
  return {
    records: REDUCE_RECORDS,
    keys: REDUCE_KEYS,
    levelCacheEntries: LEVEL_CACHE,
    memory: { bestRecordsPerSec: memory.recordsPerSec, bestSeconds: memory.seconds },
    level: { bestRecordsPerSec: level.recordsPerSec, bestSeconds: level.seconds },
    ratio: Number((level.recordsPerSec / memory.recordsPerSec).toFixed(4)),
    levelWorkingCopyLeftBytes: leftBytes,
    runs,
  };
}

// =============================================================================================
// Part 3: restore time of a large state (child process, larger heap)
// =============================================================================================

function runRestoreChild() {
  return new Promise((resolve, reject) => {
    const extra = (process.env.BENCH_STATE_CHILD_NODE_ARGS ?? '').split(/\s+/).filter((a) => a.length > 0);
    const child = fork(selfPath, ['--restore-child'], { execArgv: ['--expose-gc', '--max-old-space-size=8192', ...extra], stdio: 'inherit' });
    let result;
    child.on('message', (m) => (result = m));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`the restore child exited with ${signal ?? code}`));
    });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

// The key-group hash of @mobius/planner's keyGroupOf for number keys: murmur3 (x86, 32 bit) of
// String(key) with seed 0x2c63, modulo maxParallelism. String(number) is ASCII, so one byte per char.
function murmur3Ascii(str, seed) {
  let h = seed | 0;
  let i = 0;
  const blocks = str.length & ~3;
  for (; i < blocks; i += 4) {
    let k = str.charCodeAt(i) | (str.charCodeAt(i + 1) << 8) | (str.charCodeAt(i + 2) << 16) | (str.charCodeAt(i + 3) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let s = 0; i < str.length; i++, s += 8) k |= str.charCodeAt(i) << s;
  if (str.length & 3) {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= str.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const MAX_P = 128;
const keyGroupOf = (key) => (typeof key === 'number' ? murmur3Ascii(String(key), 0x2c63) : murmur3Ascii(String(key), 0x5d1b)) % MAX_P;
const scopeOf = (jobId) => ({ jobId, operatorId: 'reduce-2', taskIndex: 0, maxParallelism: MAX_P, keyGroups: { start: 0, end: MAX_P - 1 }, keyGroupOf });

/** A distinct, flat 1 KiB ASCII string per key, that does not compress (payloads.mjs). */
const valueOf = payloadMaker(VALUE_BYTES);

const snapshotBytes = (snap) => [...snap.groups.values()].reduce((n, b) => n + b.byteLength, 0);

function dirBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) n += f.isDirectory() ? dirBytes(join(dir, f.name)) : statSync(join(dir, f.name)).size;
  return n;
}

/** Random keys (a fixed LCG, so every run checks the same ones). */
function sampleKeys(count, keys) {
  let x = 12345;
  const out = [];
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(x % keys);
  }
  return out;
}

function checkSample(store, keys, what) {
  for (const k of sampleKeys(1000, keys)) {
    const v = store.get(k);
    if (v !== valueOf(k)) throw new Error(`${what}: key ${k} reads ${v === undefined ? 'undefined' : `a wrong value (${String(v).slice(0, 20)}…)`}`);
  }
  if (store.size() !== keys) throw new Error(`${what}: size() ${store.size()}, expected ${keys}`);
}

const yieldNow = () => new Promise((r) => setImmediate(r));

async function restoreChild() {
  const { LevelStateBackend } = await import('@mobius/state-level');
  const { MemoryStateBackend } = await import('@mobius/runtime');
  const keys = RESTORE_KEYS;
  const logicalBytes = keys * VALUE_BYTES;
  const progressEvery = Math.max(1, Math.round(keys / 10));
  rmSync(restoreDir, { recursive: true, force: true });
  mkdirSync(restoreDir, { recursive: true });
  const out = { keys, valueBytes: VALUE_BYTES, logicalBytes };

  // --- LevelDB ---------------------------------------------------------------------------
  const levelOptions = { directory: restoreDir, cacheEntries: LEVEL_CACHE, incremental: false };
  log(`part 3: level: writing ${fmt(keys)} keys × ${VALUE_BYTES} B values (${gib(logicalBytes)} GiB of values) into a LevelStateBackend task state (cacheEntries ${fmt(LEVEL_CACHE)}, incremental false)`);
  const source = await new LevelStateBackend(levelOptions).open(scopeOf('restore-source'));
  let store = source.keyed('state');
  let t0 = performance.now();
  for (let k = 0; k < keys; k++) {
    store.put(k, valueOf(k));
    if (k % 10_000 === 9_999) await yieldNow(); // let finished batches complete asynchronously too
    if ((k + 1) % progressEvery === 0) {
      const s = (performance.now() - t0) / 1000;
      log(`part 3: level: ${fmt(k + 1)} / ${fmt(keys)} keys written (${mb((k + 1) * VALUE_BYTES)} MiB) in ${s.toFixed(1)} s, ${fmt((k + 1) / s)} puts/s`);
    }
  }
  const writeMs = performance.now() - t0;
  const stats = source.stats();
  log(`part 3: level: written in ${secs(writeMs)} s (${fmt(keys / (writeMs / 1000))} puts/s, ${stats.batches} batches, ${stats.blockingWaits} blocking waits)`);

  global.gc();
  t0 = performance.now();
  let snap = await source.snapshot(1);
  const levelSnapMs = performance.now() - t0;
  const levelSnapBytes = snapshotBytes(snap);
  log(`part 3: level: snapshot (full) ${fmt(levelSnapBytes)} bytes (${gib(levelSnapBytes)} GiB, ${snap.groups.size} key groups) in ${secs(levelSnapMs)} s`);
  const sourceDiskBytes = dirBytes(source.location);
  await source.dispose();

  // Restore into a fresh task state, RESTORES times (best counts: the machine is shared).
  const levelRestores = [];
  let targetDiskBytes = 0;
  for (let r = 1; r <= RESTORES; r++) {
    global.gc();
    t0 = performance.now();
    const target = new LevelStateBackend(levelOptions).create(scopeOf(`restore-target-${r}`));
    await target.restore([snap]);
    const restoreMs = performance.now() - t0;
    checkSample(target.keyed('state'), keys, 'level restore');
    const readableMs = performance.now() - t0;
    levelRestores.push({ restoreSeconds: Number((restoreMs / 1000).toFixed(2)), readableSeconds: Number((readableMs / 1000).toFixed(2)) });
    log(`part 3: level: restore ${r}/${RESTORES}: restore([snapshot]) in ${secs(restoreMs)} s, 1,000 random keys read back and size() = ${fmt(keys)} after ${secs(readableMs)} s (${mb(levelSnapBytes / (readableMs / 1000))} MiB/s)`);
    targetDiskBytes = dirBytes(target.location);
    await target.dispose();
  }
  const levelPeakRss = process.resourceUsage().maxRSS * 1024; // the child's peak so far: the level phase
  log(`part 3: level: on disk ${mb(sourceDiskBytes)} MiB after writing, ${mb(targetDiskBytes)} MiB after restoring; peak RSS so far ${mb(levelPeakRss)} MiB`);
  snap = undefined;
  const bestLevel = levelRestores.reduce((x, y) => (y.readableSeconds < x.readableSeconds ? y : x));
  out.level = {
    cacheEntries: LEVEL_CACHE,
    writeSeconds: Number((writeMs / 1000).toFixed(2)),
    writeBatches: stats.batches,
    writeBlockingWaits: stats.blockingWaits,
    diskBytesAfterWrite: sourceDiskBytes,
    snapshotBytes: levelSnapBytes,
    snapshotSeconds: Number((levelSnapMs / 1000).toFixed(2)),
    restoreSeconds: bestLevel.restoreSeconds,
    restoreReadableSeconds: bestLevel.readableSeconds,
    restores: levelRestores,
    diskBytesAfterRestore: targetDiskBytes,
    peakRssBytes: levelPeakRss,
  };

  // --- Memory ------------------------------------------------------------------------------
  global.gc();
  log(`part 3: memory: writing the same ${fmt(keys)} keys into a MemoryStateBackend task state`);
  const mem = new MemoryStateBackend().create(scopeOf('restore-source'));
  let mstore = mem.keyed('state');
  t0 = performance.now();
  for (let k = 0; k < keys; k++) {
    mstore.put(k, valueOf(k));
    if ((k + 1) % progressEvery === 0) log(`part 3: memory: ${fmt(k + 1)} / ${fmt(keys)} keys written in ${secs(performance.now() - t0)} s`);
  }
  const memWriteMs = performance.now() - t0;
  global.gc();
  const heapWithState = process.memoryUsage().heapUsed;
  log(`part 3: memory: written in ${secs(memWriteMs)} s, heap with the state ${mb(heapWithState)} MiB`);
  let msnap;
  const memSnapshots = [];
  for (let r = 1; r <= RESTORES; r++) {
    msnap = undefined;
    global.gc();
    t0 = performance.now();
    msnap = await mem.snapshot(r);
    const ms = performance.now() - t0;
    memSnapshots.push(Number((ms / 1000).toFixed(2)));
    log(`part 3: memory: snapshot ${r}/${RESTORES}: ${fmt(snapshotBytes(msnap))} bytes (${gib(snapshotBytes(msnap))} GiB) in ${secs(ms)} s`);
  }
  const memSnapBytes = snapshotBytes(msnap);
  await mem.close();
  mstore = undefined;
  const memRestores = [];
  let heapAfterRestore = 0;
  for (let r = 1; r <= RESTORES; r++) {
    global.gc();
    t0 = performance.now();
    const mtarget = new MemoryStateBackend().create(scopeOf(`restore-target-${r}`));
    await mtarget.restore([msnap]);
    const restoreMs = performance.now() - t0;
    checkSample(mtarget.keyed('state'), keys, 'memory restore');
    const readableMs = performance.now() - t0;
    memRestores.push({ restoreSeconds: Number((restoreMs / 1000).toFixed(2)), readableSeconds: Number((readableMs / 1000).toFixed(2)) });
    log(`part 3: memory: restore ${r}/${RESTORES}: restore([snapshot]) in ${secs(restoreMs)} s, sample read back after ${secs(readableMs)} s (${mb(memSnapBytes / (readableMs / 1000))} MiB/s)`);
    global.gc();
    heapAfterRestore = process.memoryUsage().heapUsed;
    await mtarget.close();
  }
  msnap = undefined;
  const bestMem = memRestores.reduce((x, y) => (y.readableSeconds < x.readableSeconds ? y : x));
  out.memory = {
    writeSeconds: Number((memWriteMs / 1000).toFixed(2)),
    heapUsedWithStateBytes: heapWithState,
    heapUsedAfterRestoreBytes: heapAfterRestore,
    snapshotBytes: memSnapBytes,
    snapshotSeconds: Math.min(...memSnapshots),
    snapshots: memSnapshots,
    restoreSeconds: bestMem.restoreSeconds,
    restoreReadableSeconds: bestMem.readableSeconds,
    restores: memRestores,
    peakRssBytes: process.resourceUsage().maxRSS * 1024, // of the whole child: the memory phase, unless the level one was higher
  };
  rmSync(restoreDir, { recursive: true, force: true });
  process.send(out);
}

async function partRestore() {
  const keys = RESTORE_KEYS;
  const bytes = keys * VALUE_BYTES;
  log(`part 3: restore time of a ${gib(bytes)} GiB state (${fmt(keys)} keys × ${VALUE_BYTES} B), in a child process (--max-old-space-size=8192)`);
  const started = performance.now();
  const r = await runRestoreChild();
  r.wallSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
  // Scaled to 1 GB (10^9 bytes of values) when a smaller state was measured (restore is linear in the bytes).
  const scale = 1e9 / bytes;
  r.scaledTo1GB = keys * VALUE_BYTES < 0.9e9;
  r.level.restoreReadableSecondsPer1GB = Number((r.level.restoreReadableSeconds * scale).toFixed(2));
  r.memory.restoreReadableSecondsPer1GB = Number((r.memory.restoreReadableSeconds * scale).toFixed(2));
  return r;
}

// =============================================================================================
// Main
// =============================================================================================

async function main() {
  const wallStart = performance.now();
  const machine = machineInfo();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`);
  const { StreamingContext } = await import('mobius');
  const results = { benchmark: 'state', date: new Date().toISOString(), machine, rounds: { checkpoints: CKPT_ROUNDS, backends: ROUNDS } };
  try {
    if (PARTS.has('1')) results.checkpoints = await partCheckpoints(StreamingContext);
    if (PARTS.has('2')) results.backends = await partBackends(StreamingContext);
    if (PARTS.has('3')) results.restore = await partRestore();
  } finally {
    rmSync(ckptDir, { recursive: true, force: true });
    rmSync(restoreDir, { recursive: true, force: true });
  }
  results.wallSeconds = Number(((performance.now() - wallStart) / 1000).toFixed(1));

  console.log('');
  console.log(`Checkpoints and state, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  const c = results.checkpoints;
  if (c) {
    console.log('');
    console.log(`1. Word count (${fmt(c.words)} words, p=1, memory backend, counting sink), best of ${CKPT_ROUNDS}:`);
    console.log(`   no checkpoints          ${fmt(c.none.bestRecordsPerSec).padStart(11)} words/s  (${c.none.bestSeconds.toFixed(2)} s)`);
    console.log(`   checkpoint every 1 s    ${fmt(c.ckpt.bestRecordsPerSec).padStart(11)} words/s  (${c.ckpt.bestSeconds.toFixed(2)} s, ${c.ckpt.checkpointsCompleted} checkpoints completed, largest ${mb(c.ckpt.largestCheckpointBytes)} MiB)`);
    console.log(`   same, strategy global   ${fmt(c.global.bestRecordsPerSec).padStart(11)} words/s  (${c.global.bestSeconds.toFixed(2)} s, ${c.global.checkpointsCompleted} checkpoints completed)`);
    console.log(`   ratio with/without, default strategy (single-task, replay buffers): ${c.ratio.toFixed(3)}`);
    console.log(`   ratio with/without, strategy global (checkpointing alone): ${c.globalRatio.toFixed(3)} (target >= 0.95)${c.globalRatio >= 0.95 ? '' : '  BELOW TARGET'}`);
    console.log(`   CPU per run (least of each side): ${c.minCpuSeconds.none.toFixed(2)} s without, ${c.minCpuSeconds.ckpt.toFixed(2)} s single-task (ratio ${c.cpuRatio.toFixed(3)}), ${c.minCpuSeconds.global.toFixed(2)} s global (ratio ${c.globalCpuRatio.toFixed(3)})`);
    if (c.ckpt.inCheckpoint) {
      const share = c.ckpt.inCheckpoint.ms / 1000 / c.ckpt.bestSeconds;
      console.log(`   tasks spent ${c.ckpt.inCheckpoint.ms} ms in checkpoint() over ${c.ckpt.inCheckpoint.calls} calls (longest ${c.ckpt.inCheckpoint.maxMs} ms) in the best run:`);
      console.log(`   ${(100 * share).toFixed(1)} % of its time (all tasks share one thread), so about ${(1 - share).toFixed(2)} is what checkpointing alone allows`);
    }
  }
  const b = results.backends;
  if (b) {
    console.log('');
    console.log(`2. Keyed reduce (${fmt(b.records)} records, ${fmt(b.keys)} distinct keys, p=1), best of ${ROUNDS}:`);
    console.log(`   memory                  ${fmt(b.memory.bestRecordsPerSec).padStart(11)} records/s  (${b.memory.bestSeconds.toFixed(2)} s)`);
    console.log(`   level (cache ${fmt(b.levelCacheEntries)})    ${fmt(b.level.bestRecordsPerSec).padStart(11)} records/s  (${b.level.bestSeconds.toFixed(2)} s)`);
    console.log(`   ratio level/memory: ${b.ratio.toFixed(3)}`);
  }
  const r = results.restore;
  if (r) {
    console.log('');
    console.log(`3. Restore of ${fmt(r.keys)} keys × ${r.valueBytes} B (${gib(r.logicalBytes)} GiB of values)${r.scaledTo1GB ? ` — SMALLER THAN 1 GB, per-GB figures extrapolated linearly` : ''}, best of ${r.level.restores.length}:`);
    console.log(`   level:  write ${r.level.writeSeconds.toFixed(1)} s; snapshot ${gib(r.level.snapshotBytes)} GiB in ${r.level.snapshotSeconds.toFixed(1)} s; restore ${r.level.restoreSeconds.toFixed(1)} s, readable after ${r.level.restoreReadableSeconds.toFixed(1)} s`);
    console.log(`   memory: write ${r.memory.writeSeconds.toFixed(1)} s; snapshot ${gib(r.memory.snapshotBytes)} GiB in ${r.memory.snapshotSeconds.toFixed(1)} s; restore ${r.memory.restoreSeconds.toFixed(1)} s, readable after ${r.memory.restoreReadableSeconds.toFixed(1)} s`);
    console.log(`   restore time level/memory: ${(r.level.restoreReadableSeconds / r.memory.restoreReadableSeconds).toFixed(1)}x`);
    if (r.scaledTo1GB) console.log(`   per 1 GB (extrapolated): level ${r.level.restoreReadableSecondsPer1GB.toFixed(1)} s, memory ${r.memory.restoreReadableSecondsPer1GB.toFixed(1)} s`);
    console.log(`   part 3 took ${r.wallSeconds.toFixed(0)} s`);
  }
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  console.log('');
  log(`results written to ${relative(here, resultsPath)} (${results.wallSeconds.toFixed(0)} s in all)`);
}

// Last, so that every constant above is initialised.
if (process.argv[2] === '--restore-child') {
  await restoreChild();
} else {
  await main();
}
