import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@mobius/interface';

export type Pair = [string, number];

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every line (children share the list), to assert on the engine's logs. */
export class RecordingLogger implements Logger {
  constructor(readonly lines: LogLine[] = []) {}
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg: msg ?? '' });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg: msg ?? '' });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg: msg ?? '' });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg: msg ?? '' });
  }
  child(): Logger {
    return new RecordingLogger(this.lines);
  }
  messages(level: LogLine['level']): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg);
  }
}

/** Every committed (visible) update of a FileSink folder of [word, count] lines, per word (files for which `skip` is true left out). */
/** Every row of the part files a FileSink committed into `dir`, file by file (hidden in-progress files are skipped). */
export function committedRows<T>(dir: string): T[] {
  const rows: T[] = [];
  for (const f of readdirSync(dir)) {
    if (f.startsWith('.')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line !== '') rows.push(JSON.parse(line) as T);
  }
  return rows;
}

/**
 * The windows whose committed counts are not exactly one row with the expected count: rows are
 * `[user, windowStart, count]`, `expected` maps `user@windowStart` to its count. Empty: every
 * window exactly once.
 */
export function windowCountViolations(rows: readonly (readonly [string, number, number])[], expected: ReadonlyMap<string, number>): { window: string; expected?: number; committed?: number[] }[] {
  const got = new Map<string, number[]>();
  for (const [user, start, n] of rows) {
    const k = `${user}@${start}`;
    got.set(k, [...(got.get(k) ?? []), n]);
  }
  return [...new Set([...got.keys(), ...expected.keys()])]
    .filter((k) => got.get(k)?.length !== 1 || got.get(k)![0] !== expected.get(k))
    .map((k) => ({ window: k, expected: expected.get(k), committed: got.get(k) }));
}

export function committedUpdates(dir: string, skip: (file: string) => boolean = () => false): Map<string, number[]> {
  const updates = new Map<string, number[]>();
  for (const f of readdirSync(dir)) {
    if (f.startsWith('.') || skip(f)) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      const [w, c] = JSON.parse(line) as Pair;
      const list = updates.get(w) ?? [];
      list.push(c);
      updates.set(w, list);
    }
  }
  return updates;
}

export interface Violation {
  word: string;
  /** The word's final count (0: a word that should not be in the output). */
  expected: number;
  /** Updates committed for it. */
  updates: number;
  /** Counts in 1..expected committed more than once, and never. */
  duplicated: number;
  missing: number;
  /** The first count committed twice, if any. */
  firstDuplicate?: number;
}

/**
 * The words whose committed updates are not exactly 1, 2, …, final (reduce's changelog of a
 * word count: each update exactly once, none lost, none twice), and the words that should not
 * be there, summed up compactly (a diff of a million-element array helps nobody).
 */
export function exactlyOnceViolations(out: string, reference: ReadonlyMap<string, number>, skip?: (file: string) => boolean): Violation[] {
  const updates = committedUpdates(out, skip);
  const wrong: Violation[] = [];
  for (const [word, count] of reference) {
    const times = new Uint32Array(count + 2);
    const seen = updates.get(word) ?? [];
    let outside = 0;
    for (const c of seen) {
      if (Number.isInteger(c) && c >= 1 && c <= count) times[c]++;
      else outside++;
    }
    let duplicated = 0;
    let missing = 0;
    let firstDuplicate: number | undefined;
    for (let c = 1; c <= count; c++) {
      if (times[c] === 0) missing++;
      else if (times[c] > 1) {
        duplicated++;
        firstDuplicate ??= c;
      }
    }
    if (duplicated > 0 || missing > 0 || outside > 0) wrong.push({ word, expected: count, updates: seen.length, duplicated, missing, ...(firstDuplicate !== undefined ? { firstDuplicate } : {}) });
  }
  for (const [word, seen] of updates) if (!reference.has(word)) wrong.push({ word, expected: 0, updates: seen.length, duplicated: 0, missing: 0 });
  return wrong;
}

export interface CompleteCheckpoint {
  jobDir: string;
  id: number;
  dir: string;
}

/** The complete checkpoints (`chk-<id>` folders with `_metadata.json`) of every job folder under `root`, oldest first. */
export function completeCheckpoints(root: string): CompleteCheckpoint[] {
  const found: CompleteCheckpoint[] = [];
  if (!existsSync(root)) return found;
  for (const job of readdirSync(root)) {
    const jobDir = join(root, job);
    let entries: string[];
    try {
      entries = readdirSync(jobDir);
    } catch {
      continue; // not a folder, or removed meanwhile
    }
    for (const name of entries) {
      const m = /^chk-(\d+)$/.exec(name);
      if (m !== null && existsSync(join(jobDir, name, '_metadata.json'))) found.push({ jobDir, id: Number(m[1]), dir: join(jobDir, name) });
    }
  }
  return found.sort((a, b) => a.id - b.id);
}
