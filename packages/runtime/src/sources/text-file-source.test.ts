import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceContext } from '@mobius/interface';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextFileSource } from './text-file-source.js';

/** A SourceContext that records what one fetch() call collected. */
class RecordingContext implements SourceContext<string> {
  collectWithTimestamp(record: Parameters<this["collect"]>[0], _timestamp: number): void | Promise<void> {
    return this.collect(record);
  }
  emitWatermark(): void {}
  markAsTemporarilyIdle(): void {}

  readonly lines: string[] = [];
  readonly perFetch: number[] = [];
  ended = false;
  readonly cancelled = false;
  constructor(
    readonly taskIndex: number,
    readonly parallelism: number,
  ) {}
  collect(line: string): void {
    if (this.ended) throw new Error('collect() after end()');
    this.lines.push(line);
    this.perFetch[this.perFetch.length - 1]++;
  }
  end(): void {
    this.ended = true;
  }
}

/** Drives one task of a TextFileSource to its end, as the task loop would. */
async function readTask(path: string, parallelism: number, index: number, chunkSize: number, batchSize: number): Promise<RecordingContext> {
  const source = new TextFileSource(path, batchSize, chunkSize);
  const ctx = new RecordingContext(index, parallelism);
  await source.init(parallelism, index);
  try {
    let calls = 0;
    while (!ctx.ended) {
      ctx.perFetch.push(0);
      await source.fetch(ctx);
      if (++calls > 1_000_000) throw new Error('source never ended');
    }
  } finally {
    await source.close();
  }
  return ctx;
}

/** How many file descriptors of this process are open on `path` (Linux: /proc/self/fd). */
async function openDescriptorsOf(path: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === path) n++;
  }
  return n;
}

/** A deterministic PRNG (mulberry32), so a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASCII = 'abcdefghijklmnopqrstuvwxyz ,.;:ABCXYZ0123456789';
/** 2-, 3- and 4-byte UTF-8 characters (the last is a surrogate pair in JS). */
const MULTIBYTE = ['é', 'ß', 'ж', '€', '中', '✓', '😀', '𝄞'];

function randomLine(rand: () => number, length: number, multibyteShare: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    s += rand() < multibyteShare ? MULTIBYTE[Math.floor(rand() * MULTIBYTE.length)] : ASCII[Math.floor(rand() * ASCII.length)];
  }
  return s;
}

/** A test file: its lines (the truth) and how they are written. */
interface FileSpec {
  readonly name: string;
  readonly lines: readonly string[];
  /** Separator after line i (the last one is used only when finalNewline). */
  readonly separators: readonly ('\n' | '\r\n')[];
  readonly finalNewline: boolean;
}

function randomFile(name: string, seed: number, options: { lines: number; maxLength: number; multibyte: number; crlf: number; empty: number; finalNewline: boolean }): FileSpec {
  const rand = prng(seed);
  const lines: string[] = [];
  const separators: ('\n' | '\r\n')[] = [];
  for (let i = 0; i < options.lines; i++) {
    const length = rand() < options.empty ? 0 : Math.floor(rand() * (options.maxLength + 1));
    lines.push(randomLine(rand, length, options.multibyte));
    separators.push(rand() < options.crlf ? '\r\n' : '\n');
  }
  return { name, lines, separators, finalNewline: options.finalNewline };
}

function plainFile(name: string, lines: readonly string[], sep: '\n' | '\r\n', finalNewline: boolean): FileSpec {
  return { name, lines, separators: lines.map(() => sep), finalNewline };
}

/** The file's bytes and the byte offset where each line starts. */
function encode(spec: FileSpec): { bytes: Buffer; starts: number[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  let offset = 0;
  spec.lines.forEach((line, i) => {
    starts.push(offset);
    const last = i === spec.lines.length - 1;
    const text = line + (last && !spec.finalNewline ? '' : spec.separators[i]);
    const b = Buffer.from(text, 'utf8');
    parts.push(b);
    offset += b.length;
  });
  return { bytes: Buffer.concat(parts), starts };
}

const rand = prng(20240601);
const hugeLine = randomLine(rand, 8_000, 0.5);
const FILES: FileSpec[] = [
  randomFile('random-lf', 1, { lines: 40, maxLength: 300, multibyte: 0.1, crlf: 0, empty: 0.15, finalNewline: true }),
  randomFile('random-mixed-crlf-no-final-newline', 2, { lines: 40, maxLength: 300, multibyte: 0.2, crlf: 0.5, empty: 0.15, finalNewline: false }),
  randomFile('multibyte-dense', 3, { lines: 30, maxLength: 300, multibyte: 0.95, crlf: 0.3, empty: 0.1, finalNewline: true }),
  randomFile('mostly-empty-lines', 4, { lines: 60, maxLength: 10, multibyte: 0.3, crlf: 0.5, empty: 0.7, finalNewline: false }),
  {
    name: 'huge-line-between-short-ones',
    lines: ['first', '', 'x€', hugeLine, 'after the huge line', '😀', 'last'],
    separators: ['\n', '\n', '\r\n', '\n', '\r\n', '\n', '\n'],
    finalNewline: false,
  },
  plainFile('single-huge-line-no-newline', [hugeLine], '\n', false),
  plainFile('single-huge-line-crlf', [hugeLine], '\r\n', true),
  plainFile('empty', [], '\n', false),
  plainFile('only-newlines', Array.from({ length: 20 }, () => ''), '\n', true),
  plainFile('only-crlf', [''], '\r\n', true),
  plainFile('one-short-line-no-newline', ['x'], '\n', false),
  plainFile('fewer-bytes-than-tasks', ['a', 'b'], '\n', false),
];

let dir = '';
const paths = new Map<string, { path: string; bytes: Buffer; starts: number[]; spec: FileSpec }>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mobius-text-file-source-'));
  for (const spec of FILES) {
    const { bytes, starts } = encode(spec);
    const path = join(dir, `${spec.name}.txt`);
    await writeFile(path, bytes);
    paths.set(spec.name, { path, bytes, starts, spec });
  }
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const CHUNK_SIZES = [7, 64, 1000];
const BATCH_SIZE = 5;

describe('TextFileSource: the generated files are hard cases', () => {
  it('places multibyte characters across every chunk size boundary', () => {
    for (const chunk of CHUNK_SIZES) {
      let straddling = 0;
      for (const { bytes } of paths.values()) {
        // A boundary at k·chunk straddles a character when the byte there is a continuation byte.
        for (let k = chunk; k < bytes.length; k += chunk) if ((bytes[k] & 0xc0) === 0x80) straddling++;
      }
      expect(straddling, `chunk ${chunk}`).toBeGreaterThan(3);
    }
  });

  it('has CRLF lines, empty lines and a line longer than every chunk', () => {
    const all = [...paths.values()];
    expect(all.some((f) => f.bytes.includes('\r\n'))).toBe(true);
    expect(all.some((f) => f.spec.lines.includes(''))).toBe(true);
    expect(Buffer.byteLength(hugeLine)).toBeGreaterThan(10 * Math.max(...CHUNK_SIZES));
  });
});

describe('TextFileSource: every line read exactly once, split by byte range', () => {
  for (const spec of FILES) {
    it(`${spec.name}: parallelism 1..8, chunk sizes ${CHUNK_SIZES.join('/')}`, async () => {
      const { path, bytes, starts } = paths.get(spec.name)!;
      const size = bytes.length;
      for (const chunk of CHUNK_SIZES) {
        for (let p = 1; p <= 8; p++) {
          const perTask: string[][] = [];
          for (let i = 0; i < p; i++) {
            const ctx = await readTask(path, p, i, chunk, BATCH_SIZE);
            const where = `${spec.name} chunk ${chunk} task ${i}/${p}`;
            expect(ctx.ended, where).toBe(true);
            // batchSize is respected by every fetch call.
            for (const n of ctx.perFetch) expect(n, where).toBeLessThanOrEqual(BATCH_SIZE);
            // Task i reads exactly the lines that start inside its byte range [i·size/p, (i+1)·size/p).
            const from = Math.floor((i * size) / p);
            const to = Math.floor(((i + 1) * size) / p);
            const owned = spec.lines.filter((_, k) => starts[k] >= from && starts[k] < to);
            expect(ctx.lines, where).toEqual(owned);
            perTask.push(ctx.lines);
          }
          // Together: each line exactly once (multiset) …
          const count = new Map<string, number>();
          for (const l of spec.lines) count.set(l, (count.get(l) ?? 0) + 1);
          for (const l of perTask.flat()) count.set(l, (count.get(l) ?? 0) - 1);
          expect([...count.values()].every((c) => c === 0), `${spec.name} chunk ${chunk} p ${p}: multiset`).toBe(true);
          // … and each task's lines are a contiguous run, in file order and task order.
          let next = 0;
          for (const lines of perTask) {
            expect(lines, `${spec.name} chunk ${chunk} p ${p}: contiguous`).toEqual(spec.lines.slice(next, next + lines.length));
            next += lines.length;
          }
          expect(next).toBe(spec.lines.length);
        }
      }
    });
  }

  it('uses a 1 MiB chunk by default and emits at most batchSize lines per fetch', async () => {
    const { path, spec } = paths.get('random-lf')!;
    const source = new TextFileSource(path, 3);
    const ctx = new RecordingContext(0, 1);
    await source.init(1, 0);
    while (!ctx.ended) {
      ctx.perFetch.push(0);
      await source.fetch(ctx);
    }
    await source.close();
    expect(ctx.lines).toEqual(spec.lines);
    // The whole file is one chunk: every fetch but the last emits a full batch.
    expect(ctx.perFetch.slice(0, -2).every((n) => n === 3)).toBe(true);
  });
});

describe('TextFileSource: file handle', () => {
  it.runIf(existsSync('/proc/self/fd'))('close() closes the file handle opened by init()', async () => {
    const { path } = paths.get('random-lf')!;
    expect(await openDescriptorsOf(path)).toBe(0);
    const source = new TextFileSource(path, 10, 64);
    await source.init(2, 1);
    expect(await openDescriptorsOf(path)).toBe(1);
    const ctx = new RecordingContext(1, 2);
    await source.fetch(ctx);
    await source.close();
    expect(await openDescriptorsOf(path)).toBe(0);
    await source.close(); // a second close is a no-op
  });

  it('close() before init() does nothing', async () => {
    await expect(new TextFileSource(join(dir, 'missing.txt'), 10).close()).resolves.toBeUndefined();
  });

  it('init() of a missing file rejects', async () => {
    await expect(new TextFileSource(join(dir, 'missing.txt'), 10).init(1, 0)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('TextFileSource: read-ahead', () => {
  it('starts reading the next chunk as soon as a chunk is decoded, one read in flight at most', async () => {
    const { path, spec } = paths.get('random-lf')!;
    const source = new TextFileSource(path, 1_000_000, 256);
    await source.init(1, 0);
    // Count the reads the source issues on its file handle.
    const file = (source as unknown as { file: { read: (...args: unknown[]) => Promise<unknown> } }).file;
    const read = file.read.bind(file);
    let reads = 0;
    file.read = (...args: unknown[]) => {
      reads++;
      return read(...args);
    };
    const ctx = new RecordingContext(0, 1);
    ctx.perFetch.push(0);
    await source.fetch(ctx);
    // The first chunk was read and emitted; the second is already being read, no third.
    expect(reads).toBe(2);
    while (!ctx.ended) {
      ctx.perFetch.push(0);
      await source.fetch(ctx);
    }
    await source.close();
    expect(ctx.lines).toEqual(spec.lines);
  });
});
