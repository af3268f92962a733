import type { SourceContext } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CollectionSource } from './collection-source.js';

class RecordingContext<T> implements SourceContext<T> {
  collectWithTimestamp(record: Parameters<this["collect"]>[0], _timestamp: number): void | Promise<void> {
    return this.collect(record);
  }
  emitWatermark(): void {}
  markAsTemporarilyIdle(): void {}

  readonly records: T[] = [];
  readonly perFetch: number[] = [];
  ended = false;
  readonly cancelled = false;
  constructor(
    readonly taskIndex: number,
    readonly parallelism: number,
  ) {}
  collect(record: T): void {
    if (this.ended) throw new Error('collect() after end()');
    this.records.push(record);
    this.perFetch[this.perFetch.length - 1]++;
  }
  end(): void {
    this.ended = true;
  }
}

function fetchOnce<T>(source: CollectionSource, ctx: RecordingContext<T>): void {
  ctx.perFetch.push(0);
  const r = source.fetch(ctx as RecordingContext<unknown>);
  expect(r).toBeUndefined(); // a collection never waits
}

function drain<T>(source: CollectionSource, ctx: RecordingContext<T>): void {
  for (let calls = 0; !ctx.ended; calls++) {
    if (calls > 10_000) throw new Error('source never ended');
    fetchOnce(source, ctx);
  }
}

function readTask<T>(data: readonly T[], parallelism: number, index: number, batchSize: number): RecordingContext<T> {
  const source = new CollectionSource(data, batchSize);
  source.init(parallelism, index);
  const ctx = new RecordingContext<T>(index, parallelism);
  drain(source, ctx);
  return ctx;
}

describe('CollectionSource', () => {
  const sizes = [0, 1, 2, 3, 6, 7, 10, 23, 100];

  it('gives task i of p a contiguous slice, every element exactly once (p = 1..7)', () => {
    for (const n of sizes) {
      const data = Array.from({ length: n }, (_, k) => `e${k}`);
      for (let p = 1; p <= 7; p++) {
        const slices = Array.from({ length: p }, (_, i) => readTask(data, p, i, 4).records);
        // Contiguous slices in task order: concatenated they are the data, in order.
        expect(slices.flat(), `n ${n} p ${p}`).toEqual(data);
        // Balanced: slice sizes differ by at most one.
        const lengths = slices.map((s) => s.length);
        expect(Math.max(...lengths) - Math.min(...lengths), `n ${n} p ${p}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('leaves some tasks empty when there are fewer elements than tasks, and they still end', () => {
    const data = ['a', 'b', 'c'];
    const tasks = Array.from({ length: 7 }, (_, i) => readTask(data, 7, i, 10));
    expect(tasks.every((t) => t.ended)).toBe(true);
    expect(tasks.filter((t) => t.records.length === 0)).toHaveLength(4);
    expect(tasks.flatMap((t) => t.records)).toEqual(data);
    // An empty slice ends on its first fetch, collecting nothing.
    for (const t of tasks.filter((x) => x.records.length === 0)) expect(t.perFetch).toEqual([0]);
  });

  it('collects batchSize elements per fetch (the last fetch the rest)', () => {
    const data = Array.from({ length: 23 }, (_, k) => k);
    for (const batchSize of [1, 2, 5, 23, 50]) {
      const ctx = readTask(data, 1, 0, batchSize);
      expect(ctx.records).toEqual(data);
      const full = Math.floor(23 / batchSize);
      const expected = [...Array.from({ length: full }, () => batchSize), ...(23 % batchSize > 0 ? [23 % batchSize] : [])];
      expect(ctx.perFetch, `batch ${batchSize}`).toEqual(expected);
      expect(ctx.perFetch.every((c) => c <= batchSize)).toBe(true);
    }
  });

  it('ends in the fetch that emits the last element', () => {
    const source = new CollectionSource([1, 2, 3, 4], 2);
    source.init(1, 0);
    const ctx = new RecordingContext<number>(0, 1);
    fetchOnce(source, ctx);
    expect(ctx.ended).toBe(false);
    fetchOnce(source, ctx);
    expect(ctx.ended).toBe(true);
    expect(ctx.records).toEqual([1, 2, 3, 4]);
  });

  it('passes elements by reference', () => {
    const obj = { a: 1 };
    const ctx = readTask([obj], 1, 0, 1);
    expect(ctx.records[0]).toBe(obj);
  });

  it('snapshotState/restoreState resume after the last emitted element', () => {
    const data = Array.from({ length: 20 }, (_, k) => k);
    for (let p = 1; p <= 4; p++) {
      for (let i = 0; i < p; i++) {
        const whole = readTask(data, p, i, 3).records;
        for (let fetches = 0; fetches <= 3; fetches++) {
          const first = new CollectionSource(data, 3);
          first.init(p, i);
          const before = new RecordingContext<number>(i, p);
          for (let f = 0; f < fetches && !before.ended; f++) fetchOnce(first, before);
          const snapshot = first.snapshotState();
          expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot); // a plain, serialisable offset

          // A new instance (a restarted task) resumes from the snapshot.
          const second = new CollectionSource(data, 3);
          second.init(p, i);
          second.restoreState(snapshot);
          const after = new RecordingContext<number>(i, p);
          drain(second, after);
          expect([...before.records, ...after.records], `p ${p} task ${i} after ${fetches} fetches`).toEqual(whole);
        }
      }
    }
  });

  it('a snapshot taken at the end restores to an immediately ended source', () => {
    const first = new CollectionSource([1, 2, 3], 10);
    first.init(1, 0);
    drain(first, new RecordingContext<number>(0, 1));
    const second = new CollectionSource([1, 2, 3], 10);
    second.init(1, 0);
    second.restoreState(first.snapshotState());
    const ctx = new RecordingContext<number>(0, 1);
    drain(second, ctx);
    expect(ctx.records).toEqual([]);
    expect(ctx.perFetch).toEqual([0]);
  });
});
