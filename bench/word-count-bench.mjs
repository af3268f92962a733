// Word count over one ≥50 MB corpus, four ways, in one process:
//   1. plain JS loop          (the physical limit of one JS thread)
//   2. Mobius embedded        (examples/word-count/word-count.ts at parallelism 1)
//   3. RxJS                   (one event per line, then one per word, a scan-based keyed count)
//   4. Node object streams    (fs.createReadStream → lines → words → counts → sink, stream/promises)
// Records = words (whitespace-split, non-empty tokens). Each variant runs 3 times (alternating
// order, gc between runs); the best rate counts. All four must produce the same final counts.
//
// Usage: node --expose-gc word-count-bench.mjs   (npm run bench)
// Env: BENCH_ROUNDS (default 3), BENCH_CORPUS_BYTES (default 52428800 = 50 MiB),
//      BENCH_VARIANTS (ids to run, e.g. mobius; the plain-loop reference always runs).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync, createReadStream, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Observable, filter, mergeMap, scan } from 'rxjs';
import { StreamingContext } from 'mobius';
import { SEED, corpusPath, dataDir, ensureCorpus, fmt, log, machineInfo, mb } from './corpus.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// A run of some variants only must not overwrite the full results.
const resultsPath = join(dataDir, process.env.BENCH_VARIANTS ? 'word-count-results-partial.json' : 'word-count-results.json');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = 1 << 20;
const NEWLINE = 0x0a;


if (typeof global.gc !== 'function') {
  console.error('Run with --expose-gc (npm run bench does).');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Shared synchronous line reader (variants 1 and 3): 1 MiB chunks via fs.readSync, cut at the
// last newline, decode the complete part in one go, split('\n').
// ---------------------------------------------------------------------------------------------

function forEachLineSync(path, onLine) {
  const fd = openSync(path, 'r');
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const buf = Buffer.allocUnsafe(carry.length + CHUNK);
      carry.copy(buf, 0);
      const bytesRead = readSync(fd, buf, carry.length, CHUNK, null);
      const end = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (end > 0) onLine(buf.toString('utf8', 0, end)); // last line without a newline
        return;
      }
      const lastNl = buf.lastIndexOf(NEWLINE, end - 1);
      if (lastNl < 0) {
        carry = Buffer.from(buf.subarray(0, end));
        continue;
      }
      const lines = buf.toString('utf8', 0, lastNl).split('\n');
      for (let i = 0; i < lines.length; i++) onLine(lines[i]);
      carry = Buffer.from(buf.subarray(lastNl + 1, end));
    }
  } finally {
    closeSync(fd);
  }
}

const withoutRay = (counts) => {
  const out = new Map();
  for (const [w, c] of counts) if (!w.includes('ray')) out.set(w, c);
  return out;
};

// ---------------------------------------------------------------------------------------------
// Variants. Each returns { records, counts } where counts = final counts of words without "ray".
// ---------------------------------------------------------------------------------------------

// 1. Plain JS loop.
function plainLoop(path) {
  const counts = new Map();
  let records = 0;
  forEachLineSync(path, (line) => {
    const words = line.split(/\s+/);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w.length === 0) continue;
      records++;
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  });
  return { records, counts: withoutRay(counts) };
}

// 1b. The job's own code with no engine: the plain loop doing exactly what the Mobius job's
//     functions do per word (split + filter, [w, 1] pair, keyed reduce into a Map of pairs,
//     the "ray" filter, the sink Map). No engine could beat this; it shows how much of the gap
//     to the plain loop is the job's own per-record work and how much is the engine's.
function jobCode(path) {
  const state = new Map();
  const counts = new Map();
  let records = 0;
  forEachLineSync(path, (line) => {
    const words = line.split(/\s+/).filter((w) => w.length > 0);
    for (let i = 0; i < words.length; i++) {
      records++;
      const pair = [words[i], 1];
      const current = state.get(pair[0]);
      const next = current === undefined ? pair : [current[0], current[1] + pair[1]];
      state.set(pair[0], next);
      if (!next[0].includes('ray')) counts.set(next[0], next[1]);
    }
  });
  return { records, counts };
}

// 2. Mobius embedded, parallelism 1: the job of examples/word-count/word-count.ts.
async function mobius(path) {
  const ctx = StreamingContext.builder().option('parallelism.default', 1).build();
  const counts = new Map();
  ctx
    .readTextFile(path)
    .flatMap((line) => line.split(/\s+/).filter((w) => w.length > 0))
    .map((word) => [word, 1])
    .keyBy((pair) => pair[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .filter((pair) => !pair[0].includes('ray'))
    .sink((pair) => {
      counts.set(pair[0], pair[1]);
    });
  const result = await ctx.execute('word_count');
  if (result.state !== 'FINISHED') throw new Error(`mobius job ended ${result.state}`);
  const records = result.tasks.filter((t) => t.vertexName.startsWith('reduce')).reduce((n, t) => n + t.recordsIn, 0);
  return { records, counts };
}

// 3. RxJS: Observable of lines (one next per line) → one event per word → scan-based keyed count
//    emitting the updated [word, count] per word → filter → sink Map.
function rxjs(path) {
  const sink = new Map();
  const state = new Map();
  let records = 0;
  const lines$ = new Observable((subscriber) => {
    forEachLineSync(path, (line) => subscriber.next(line));
    subscriber.complete();
  });
  return new Promise((resolve, reject) => {
    lines$
      .pipe(
        mergeMap((line) => line.split(/\s+/)),
        filter((w) => w.length > 0),
        scan((_, w) => {
          records++;
          const c = (state.get(w) ?? 0) + 1;
          state.set(w, c);
          return [w, c];
        }, null),
        filter((pair) => !pair[0].includes('ray')),
      )
      .subscribe({
        next: (pair) => sink.set(pair[0], pair[1]),
        error: reject,
        complete: () => resolve({ records, counts: sink }),
      });
  });
}

// 4. Node object-mode streams (default highWaterMarks), stream/promises pipeline.
async function nodeStreams(path) {
  const sink = new Map();
  let records = 0;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const toLines = new Transform({
    readableObjectMode: true,
    transform(chunk, _enc, done) {
      const lines = (carry + decoder.write(chunk)).split('\n');
      carry = lines.pop();
      for (let i = 0; i < lines.length; i++) this.push(lines[i]);
      done();
    },
    flush(done) {
      const rest = carry + decoder.end();
      if (rest.length > 0) this.push(rest);
      done();
    },
  });
  const toWords = new Transform({
    objectMode: true,
    transform(line, _enc, done) {
      const words = line.split(/\s+/);
      for (let i = 0; i < words.length; i++) if (words[i].length > 0) this.push(words[i]);
      done();
    },
  });
  const state = new Map();
  const count = new Transform({
    objectMode: true,
    transform(w, _enc, done) {
      records++;
      const c = (state.get(w) ?? 0) + 1;
      state.set(w, c);
      done(null, [w, c]);
    },
  });
  const out = new Writable({
    objectMode: true,
    write(pair, _enc, done) {
      if (!pair[0].includes('ray')) sink.set(pair[0], pair[1]);
      done();
    },
  });
  await pipeline(createReadStream(path), toLines, toWords, count, out);
  return { records, counts: sink };
}

const ALL_VARIANTS = [
  { id: 'plain', name: 'plain JS loop', run: plainLoop },
  { id: 'jobcode', name: 'job code, no engine', run: jobCode },
  { id: 'mobius', name: 'Mobius embedded (p=1)', run: mobius },
  { id: 'rxjs', name: 'RxJS', run: rxjs },
  { id: 'streams', name: 'Node object streams', run: nodeStreams },
];
// BENCH_VARIANTS=mobius (a comma list of ids) runs only those, e.g. under --cpu-prof. The plain
// loop is the reference, so it always runs first (outside the profile's interest, once).
const only = process.env.BENCH_VARIANTS?.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
for (const id of only ?? []) if (!ALL_VARIANTS.some((v) => v.id === id)) throw new Error(`BENCH_VARIANTS: unknown variant "${id}" (one of ${ALL_VARIANTS.map((v) => v.id).join(', ')})`);
const VARIANTS = only === undefined ? ALL_VARIANTS : ALL_VARIANTS.filter((v) => v.id === 'plain' || only.includes(v.id));

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

function diffCounts(expected, actual) {
  const problems = [];
  if (expected.size !== actual.size) problems.push(`${actual.size} distinct words, expected ${expected.size}`);
  for (const [w, c] of expected) {
    if (problems.length >= 10) break;
    const got = actual.get(w);
    if (got !== c) problems.push(`"${w}": ${got ?? 'missing'}, expected ${c}`);
  }
  for (const w of actual.keys()) {
    if (problems.length >= 10) break;
    if (!expected.has(w)) problems.push(`"${w}": unexpected (${actual.get(w)})`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const wallStart = performance.now();
const machine = machineInfo();
log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);

await ensureCorpus();
const fileBytes = statSync(corpusPath).size;
log(`file: ${corpusPath}, ${fmt(fileBytes)} bytes (${mb(fileBytes)} MiB)`);

let reference; // { records, counts } of the first plain-loop run
const runs = [];
const mismatches = [];
for (let round = 0; round < ROUNDS; round++) {
  let order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  if (only !== undefined && round > 0) order = order.filter((v) => v.id !== 'plain');
  for (const v of order) {
    global.gc();
    global.gc();
    const t0 = performance.now();
    const { records, counts } = await v.run(corpusPath);
    const seconds = (performance.now() - t0) / 1000;
    const rate = records / seconds;
    const heapMiB = Number(mb(process.memoryUsage().heapUsed));
    runs.push({ round: round + 1, variant: v.id, records, seconds: Number(seconds.toFixed(3)), recordsPerSec: Math.round(rate), heapUsedMiBAtEnd: heapMiB });
    log(`round ${round + 1}/${ROUNDS} ${v.name.padEnd(22)} ${fmt(records)} records in ${seconds.toFixed(2)} s = ${fmt(rate).padStart(11)} records/s`);
    if (reference === undefined) {
      if (v.id !== 'plain') throw new Error('the plain loop must run first (it is the reference)');
      reference = { records, counts };
      log(`reference: ${fmt(records)} words, ${fmt(counts.size)} distinct words without "ray"`);
      continue;
    }
    const problems = diffCounts(reference.counts, counts);
    if (records !== reference.records) problems.unshift(`${records} records, expected ${reference.records}`);
    if (problems.length > 0) {
      mismatches.push({ round: round + 1, variant: v.id, problems });
      log(`MISMATCH: ${v.name} differs from the plain loop:\n    ${problems.join('\n    ')}`);
    }
  }
}

const best = new Map();
for (const r of runs) if (!best.has(r.variant) || r.recordsPerSec > best.get(r.variant).recordsPerSec) best.set(r.variant, r);
const plainRate = best.get('plain').recordsPerSec;
const results = VARIANTS.map((v) => ({
  variant: v.id,
  name: v.name,
  bestRecordsPerSec: best.get(v.id).recordsPerSec,
  bestSeconds: best.get(v.id).seconds,
  ratioToPlain: Number((best.get(v.id).recordsPerSec / plainRate).toFixed(4)),
  runsRecordsPerSec: runs.filter((r) => r.variant === v.id).map((r) => r.recordsPerSec),
}));

console.log('');
console.log(`Word count, ${fmt(reference.records)} words (${mb(fileBytes)} MiB, ${fmt(reference.counts.size)} distinct words without "ray"), best of ${ROUNDS}`);
console.log(`Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
console.log('');
const header = `${'variant'.padEnd(24)}${'records/s'.padStart(14)}${'best s'.padStart(9)}${'vs plain'.padStart(11)}`;
console.log(header);
console.log('-'.repeat(header.length));
for (const r of results) {
  const ratio = r.ratioToPlain >= 0.1 ? `${r.ratioToPlain.toFixed(2)}x` : `${r.ratioToPlain.toFixed(3)}x`;
  console.log(`${r.name.padEnd(24)}${fmt(r.bestRecordsPerSec).padStart(14)}${r.bestSeconds.toFixed(2).padStart(9)}${ratio.padStart(11)}`);
}
if (best.has('mobius') && best.has('jobcode')) {
  const engineShare = best.get('mobius').recordsPerSec / best.get('jobcode').recordsPerSec;
  console.log('');
  console.log(`Mobius vs the job's own code run by hand (the engine's cost alone): ${engineShare.toFixed(2)}x`);
}
if (best.has('mobius') && best.has('rxjs')) {
  const vsRx = best.get('mobius').recordsPerSec / best.get('rxjs').recordsPerSec;
  console.log(`Mobius vs RxJS: ${vsRx.toFixed(2)}x`);
}
console.log('');
const countsMatch = mismatches.length === 0;
console.log(countsMatch ? 'Counts: all variants agree with the plain loop.' : `Counts: ${mismatches.length} run(s) DIFFER from the plain loop (see MISMATCH above).`);

writeFileSync(
  resultsPath,
  JSON.stringify(
    {
      benchmark: 'word-count',
      date: new Date().toISOString(),
      machine,
      file: { path: relative(here, corpusPath), bytes: fileBytes, seed: SEED, words: reference.records, distinctWordsWithoutRay: reference.counts.size },
      rounds: ROUNDS,
      results,
      runs,
      countsMatch,
      mismatches,
      wallSeconds: Number(((performance.now() - wallStart) / 1000).toFixed(1)),
    },
    null,
    2,
  ) + '\n',
);
log(`results written to ${resultsPath} (${((performance.now() - wallStart) / 1000).toFixed(0)} s in all)`);
if (!countsMatch) process.exitCode = 1;
