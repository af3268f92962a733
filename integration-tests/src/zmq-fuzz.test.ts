import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '@mobius/interface';
import { MsgpackCodec } from '@mobius/transport-zeromq';
import { prng, randomBytes } from '@mobius/testkit';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { clusterCli, startCluster, writeJob, type Proc } from './cluster-helpers.js';
import { pacedWordCountJob } from './failover-helpers.js';
import { readText, referenceCounts, repoRoot, run, tempDir } from './helpers.js';
import { RawZmtp, dealerReady, greeting, message, messageFrame } from './zmtp.js';

/*
 * Fuzzes the coordinator's control port and a worker's data port while a job runs, for a fixed
 * time budget each (MOBIUS_FUZZ_MS, default 10 s). The inputs come from a seeded PRNG; the seed
 * is printed and named in every failure, and MOBIUS_FUZZ_SEED=<seed> replays a run.
 */
const BUDGET_MS = Number(process.env.MOBIUS_FUZZ_MS ?? 10_000);
const SEED = Number(process.env.MOBIUS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/**
 * Peak RSS growth allowed per process over a fuzz run. The job running meanwhile allocates too,
 * and how soon V8 and the allocator give memory back depends on the machine's load: the same
 * seed grew a worker by 27 MiB alone and by 188 MiB in the full suite. A leak per fuzz case
 * (3,000+ cases, many claiming lengths of gigabytes) would pass any such bound by far.
 */
const RSS_BOUND = 384 * 1024 * 1024;
/**
 * Log lines allowed per process over one fuzz run. A peer's errors are rate-limited (at most
 * 20 lines and 20 "repeated" lines per 10 s window per port, plus one count line); without
 * the limit the same run writes thousands.
 */
const LOG_LINE_BOUND = 200;

class Fuzzer {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    return Buffer.from(randomBytes(this.random, n));
  }
  /** Flips bits, truncates, extends or splices a valid encoding. */
  mutate(valid: Buffer): Buffer {
    const b = Buffer.from(valid);
    switch (this.int(5)) {
      case 0:
        for (let i = 0, n = 1 + this.int(4); i < n && b.length > 0; i++) b[this.int(b.length)] ^= 1 << this.int(8);
        return b;
      case 1:
        return b.subarray(0, this.int(b.length)); // truncated msgpack
      case 2:
        return Buffer.concat([b, this.bytes(1 + this.int(64))]);
      case 3: {
        const at = this.int(b.length + 1);
        return Buffer.concat([b.subarray(0, at), this.pick(HUGE_HEADERS), b.subarray(at)]);
      }
      default:
        return Buffer.concat([this.pick(HUGE_HEADERS), b]);
    }
  }
  u32pair(a: number, b: number): Buffer {
    const buf = Buffer.alloc(8);
    buf.writeUInt32BE(a >>> 0, 0);
    buf.writeUInt32BE(b >>> 0, 4);
    return buf;
  }
}

/** msgpack headers that declare far more than follows: array32, map32, str32, bin32, ext32 of 2^32-1. */
const HUGE_HEADERS = [0xdd, 0xdf, 0xdb, 0xc6, 0xc9].map((t) => Buffer.from([t, 0xff, 0xff, 0xff, 0xff]));

const codec = new MsgpackCodec();

/** A small msgpack encoder (nil, bool, numbers, strings, arrays, maps), so the test does not need msgpackr. */
function pack(v: unknown): Buffer {
  if (v === null || v === undefined) return Buffer.from([0xc0]);
  if (typeof v === 'boolean') return Buffer.from([v ? 0xc3 : 0xc2]);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 128) return Buffer.from([v]);
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0xd2;
      b.writeInt32BE(v, 1);
      return b;
    }
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([s.length < 32 ? Buffer.from([0xa0 | s.length]) : Buffer.from([0xd9, s.length & 0xff]), s.subarray(0, 255)]);
  }
  if (Array.isArray(v)) return Buffer.concat([Buffer.from([0x90 | Math.min(v.length, 15)]), ...v.slice(0, 15).map(pack)]);
  const entries = Object.entries(v as Record<string, unknown>).slice(0, 15);
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flatMap(([k, x]) => [pack(k), pack(x)])]);
}

/** One case against a ZeroMQ port: a new connection, a few messages, then the connection ends. */
async function fuzzOnce(f: Fuzzer, endpoint: string, bodies: (f: Fuzzer) => Buffer[][]): Promise<void> {
  const c = RawZmtp.fromEndpoint(endpoint);
  try {
    const kind = f.int(10);
    if (kind === 0) {
      await c.write(f.bytes(1 + f.int(4096))); // no handshake at all
    } else if (kind === 1) {
      // Another protocol version or security mechanism.
      await c.write(greeting({ major: f.pick([0, 1, 2, 4, 255]), minor: f.int(256), mechanism: f.pick(['NULL', 'PLAIN', 'CURVE', 'GSSAPI', f.bytes(8).toString('latin1')]) }));
      await c.write(f.bytes(f.int(128)));
    } else {
      await c.write(Buffer.concat([greeting(), dealerReady(`fuzz-${f.int(1e9)}`)]));
      for (const parts of bodies(f)) await c.write(message(parts));
      if (kind === 2) await c.write(messageFrame(f.bytes(f.int(32)), false, f.pick([2n ** 63n - 1n, 2n ** 40n, 255n * 1024n * 1024n]))); // a frame declaring far more than it has
    }
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 20))]);
  } finally {
    c.destroy();
  }
}

/** Messages for a worker's data port: [type, channel, payload] and broken shapes of it. */
function dataMessages(f: Fuzzer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0, n = 1 + f.int(8); i < n; i++) {
    const channel = Buffer.from(f.pick(['fuzz-ch', `job/e:${f.int(4)}->${f.int(4)}`, f.bytes(f.int(16)).toString('latin1')]));
    const frame = codec.encode(makeFrame(channel.toString(), f.pick(['data', 'end', 'watermark'] as const), f.int(1000), [[`w${f.int(100)}`, f.int(10)]]));
    const type = Buffer.from([f.pick([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, f.int(256)])]);
    switch (f.int(6)) {
      case 0:
        out.push([type, channel, f.mutate(Buffer.from(frame))]);
        break;
      case 1:
        out.push([Buffer.from([0x01]), channel, f.u32pair(f.pick([0, 1, 8, 0xffffffff]), f.int(2 ** 32))], [Buffer.from([0x02]), channel, f.mutate(Buffer.from(frame))]);
        break;
      case 2:
        out.push([Buffer.from([0x03]), channel, f.u32pair(0xffffffff, f.int(2 ** 32))]); // huge credit counts
        break;
      case 3:
        out.push(Array.from({ length: f.int(6) }, () => f.bytes(f.int(64)))); // wrong number of parts
        break;
      case 4:
        out.push([type, channel, f.pick(HUGE_HEADERS)]);
        break;
      default:
        out.push([type, channel, Buffer.from(frame)]);
    }
  }
  return out;
}

/** Messages for the coordinator's control port: one msgpack body [kind, id, message], and broken shapes of it. */
function controlMessages(f: Fuzzer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0, n = 1 + f.int(8); i < n; i++) {
    const valid = pack([f.pick([1, 2, 3, 4, 5, 6, 0, 7, -1, 2 ** 40]), f.pick([1, 0, -5, 2 ** 53, 1.5]), f.pick([
      { type: 'register', workerId: 'fuzz', endpoint: 'tcp://127.0.0.1:1', slots: 1, pid: 1, token: 'wrong', tasks: [] },
      { type: 'heartbeat', workerId: `w-${f.int(10)}` },
      { type: 'task-state', jobId: 'none', taskId: 'x', state: 'FAILED' },
      { type: 42 },
      null,
      'text',
    ])]);
    switch (f.int(4)) {
      case 0:
        out.push([f.mutate(Buffer.from(valid))]);
        break;
      case 1:
        out.push([Buffer.from(valid), f.bytes(f.int(16))]); // an extra part
        break;
      case 2:
        out.push([f.bytes(f.int(256))]);
        break;
      default:
        out.push([Buffer.from(valid)]);
    }
  }
  return out;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

const lineCount = (p: Proc): number => (p.stdout.match(/\n/g)?.length ?? 0) + (p.stderr.match(/\n/g)?.length ?? 0);

/** Runs cases for BUDGET_MS with 4 connections at a time; samples the target's RSS meanwhile. */
async function fuzzFor(target: Proc, endpoint: string, seed: number, bodies: (f: Fuzzer) => Buffer[][]): Promise<{ cases: number; rssGrowth: number; lines: number; top: string }> {
  const f = new Fuzzer(seed);
  const linesBefore = lineCount(target);
  const rssBefore = rss(target.child.pid!);
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(target.child.pid!))), 100);
  const deadline = Date.now() + BUDGET_MS;
  let cases = 0;
  try {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < deadline && target.child.exitCode === null) {
          await fuzzOnce(f, endpoint, bodies);
          cases++;
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const lines = lineCount(target) - linesBefore;
  return { cases, rssGrowth: peak - rssBefore, lines, top: topMessages(target, lines) };
}

/** The most frequent messages among the last `n` log lines of a process (pino JSON), to say what a flood is made of. */
function topMessages(p: Proc, n: number): string {
  const all = (p.stdout + p.stderr).split('\n').filter((l) => l !== '');
  const counts = new Map<string, number>();
  for (const line of all.slice(-n)) {
    const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.slice(0, 60);
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([m, c]) => `${c}× ${m}`).join('; ');
}

describe(`fuzzing the ZeroMQ control and data ports while a job runs (seed ${SEED}; replay with MOBIUS_FUZZ_SEED=${SEED})`, () => {
  const tmp = tempDir('mobius-fuzz-');
  const corpus = join(tmp.dir, 'corpus.txt');
  let reference: Map<string, number>;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let out: string;
  let jobId: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(repoRoot, 'examples/word-count/make-corpus.mjs'), corpus, String(1_000_000), '5']);
    const text = readText(corpus);
    reference = referenceCounts(text);
    console.log(`zmq fuzz: seed ${SEED}, ${BUDGET_MS} ms per port`);
    // A generous heartbeat timeout: this tests input handling, not liveness on a loaded machine.
    cluster = await startCluster(2, { heartbeatTimeoutMs: 10_000 });
    out = join(tmp.dir, 'out');
    // Paced so that the job outlives both fuzz runs: each of 2 source tasks reads half the lines.
    const lines = text.split('\n').length;
    const everyMs = 20;
    const perTick = Math.max(1, Math.ceil(lines / 2 / (((2 * BUDGET_MS + 10_000) / everyMs) | 0)));
    const options = { 'checkpoint.interval.ms': 300, 'checkpoint.dir': join(tmp.dir, 'ckpt'), 'restart.max-attempts': 20 };
    const file = writeJob('fuzz-job.ts', pacedWordCountJob(corpus, out, options, { lines: perTick, everyMs }));
    const submit = await run(process.execPath, [clusterCli, 'submit', file, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.stderr).toBe('');
    jobId = submit.stdout.trim();
    await cluster.api.waitForJob(jobId, (j) => j.state === 'RUNNING' && j.tasks.every((t) => t.state === 'RUNNING') && j.tasks.some((t) => t.recordsIn > 0), 60_000);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it(
    "the coordinator's control port: no crash, bounded memory and log lines",
    async () => {
      const r = await fuzzFor(cluster.coordinator, cluster.control, SEED, controlMessages);
      console.log(`zmq fuzz control port: ${r.cases} cases, RSS +${(r.rssGrowth / 1048576).toFixed(1)} MiB, ${r.lines} log lines (seed ${SEED}): ${r.top}`);
      expect(cluster.coordinator.child.exitCode, `seed ${SEED}: the coordinator exited`).toBeNull();
      expect(r.cases, `seed ${SEED}`).toBeGreaterThan(50);
      expect(r.rssGrowth, `seed ${SEED}: RSS growth`).toBeLessThan(RSS_BOUND);
      expect(r.lines, `seed ${SEED}: log lines (${r.top})`).toBeLessThan(LOG_LINE_BOUND);
      // The fuzz reached the parser (not only ZeroMQ's handshake).
      expect(cluster.coordinator.stdout + cluster.coordinator.stderr, `seed ${SEED}`).toMatch(/malformed control message dropped/);
    },
    BUDGET_MS + 60_000,
  );

  it(
    "a worker's data port: no crash, bounded memory and log lines",
    async () => {
      const workers = (await cluster.api.call<{ address: string; pid: number }[]>('GET', '/workers')).body;
      const target = cluster.workers.find((w) => w.child.pid === workers[0].pid)!;
      const r = await fuzzFor(target, workers[0].address, SEED + 1, dataMessages);
      console.log(`zmq fuzz data port: ${r.cases} cases, RSS +${(r.rssGrowth / 1048576).toFixed(1)} MiB, ${r.lines} log lines (seed ${SEED}): ${r.top}`);
      expect(target.child.exitCode, `seed ${SEED}: the worker exited`).toBeNull();
      expect(r.cases, `seed ${SEED}`).toBeGreaterThan(50);
      expect(r.rssGrowth, `seed ${SEED}: RSS growth`).toBeLessThan(RSS_BOUND);
      expect(r.lines, `seed ${SEED}: log lines (${r.top})`).toBeLessThan(LOG_LINE_BOUND);
      expect(target.stdout + target.stderr, `seed ${SEED}`).toMatch(/malformed message dropped/);
    },
    BUDGET_MS + 60_000,
  );

  it(
    'the job that ran meanwhile ends exact, and every process is still up',
    async () => {
      const done = await cluster.api.waitForJob(jobId, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 180_000);
      expect(done.error, `seed ${SEED}`).toBeNull();
      expect(done.state).toBe('FINISHED');
      expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(exactlyOnceViolations(out, reference).slice(0, 5), `seed ${SEED}`).toEqual([]);
      for (const p of [cluster.coordinator, ...cluster.workers]) expect(p.child.exitCode, `seed ${SEED}`).toBeNull();
    },
    200_000,
  );
});
