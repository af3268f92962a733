import { MobiusError } from '@mobius/interface';
import { estimateBytes } from '../failover/replay-buffer.js';
import type { CollectOutlet } from './collect-target.js';

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The bounded hand-off between the tasks of one collect sink and the one reader of its records
 * (Flink's collect result buffer): records in order of arrival, at most `maxBytes` (estimated)
 * held unread. A full buffer still takes the record it is given but answers false, and the sink
 * waits for `whenWritable()`, so a task overshoots by at most the input batch it is processing.
 * `end()` and `fail()` come from the job's end; the reader gets what is buffered, then the end
 * (or the failure). A reader that stops (`return()`, e.g. a `break` out of `for await`) drops
 * what is buffered and releases the sinks: later records are discarded.
 */
export class CollectBuffer<T = unknown> implements CollectOutlet, AsyncIterableIterator<T> {
  private records: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private heldBytes = 0;
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private stopped = false;
  private iterated = false;
  private wakeReader: (() => void) | undefined;
  private writers: (() => void)[] = [];

  constructor(readonly maxBytes: number) {}

  /** Estimated bytes held unread. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Records held unread. */
  get length(): number {
    return this.records.length - this.head;
  }

  push(record: T): boolean {
    if (this.stopped || this.ended) return true;
    const size = estimateBytes(record);
    this.records.push(record);
    this.sizes.push(size);
    this.heldBytes += size;
    if (this.wakeReader !== undefined) this.wake();
    return this.heldBytes < this.maxBytes;
  }

  whenWritable(): Promise<void> {
    if (this.heldBytes < this.maxBytes || this.stopped || this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => this.writers.push(resolve));
  }

  /** Every sink task finished: the reader gets what is buffered, then the end. */
  end(): void {
    this.ended = true;
    this.releaseWriters();
    this.wake();
  }

  /** The job failed: the reader gets what is buffered, then `error`. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    // One reader: a second would silently take records away from the first.
    if (this.iterated) throw new MobiusError('COLLECT_ALREADY_READ', 'the records of a collect sink can be read once: iterate collectAsync() in one place');
    this.iterated = true;
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.stopped) return DONE;
      if (this.head < this.records.length) return { done: false, value: this.take() };
      if (this.ended) {
        this.throwFailure();
        return DONE;
      }
      await this.arrival();
    }
  }

  /**
   * Every record held now (at least one; waits for one), or undefined at the end: a reader that
   * takes a million records pays one promise per batch, not one per record. Throws the job's
   * failure once what was held before it is read.
   */
  async nextBatch(): Promise<T[] | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      if (this.head < this.records.length) {
        const batch = this.head === 0 ? this.records : this.records.slice(this.head);
        this.records = [];
        this.sizes = [];
        this.head = 0;
        this.heldBytes = 0;
        this.releaseWriters();
        return batch;
      }
      if (this.ended) {
        this.throwFailure();
        return undefined;
      }
      await this.arrival();
    }
  }

  /** The reader stops early: what is held is dropped and the sinks are released. */
  async return(): Promise<IteratorResult<T>> {
    this.stopped = true;
    this.records = [];
    this.sizes = [];
    this.head = 0;
    this.heldBytes = 0;
    this.releaseWriters();
    return DONE;
  }

  /** At the end: the job's failure, once (the reader then stops). */
  private throwFailure(): void {
    if (this.failure === undefined) return;
    const { error } = this.failure;
    this.failure = undefined;
    this.stopped = true;
    throw error;
  }

  /** Resolves when a record arrives or the buffer ends. */
  private arrival(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeReader = resolve));
  }

  private take(): T {
    const i = this.head++;
    const record = this.records[i];
    this.heldBytes -= this.sizes[i];
    // Compact once the read part dominates, so the arrays do not grow with the stream.
    if (this.head >= 1024 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    if (this.heldBytes < this.maxBytes && this.writers.length > 0) this.releaseWriters();
    return record;
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private releaseWriters(): void {
    const writers = this.writers;
    this.writers = [];
    for (const w of writers) w();
  }
}
