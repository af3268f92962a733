import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StateError, type StateKey, type TaskStateScope } from '@mobius/interface';
import { Level } from 'level';
import { FLUSH_SEQ_KEY, dataKey, markKey } from './keys.js';
import type { LevelKeyedStore } from './level-keyed-store.js';
import type { LevelStateBackendOptions, LevelStateStats } from './level-state-options.js';
import { DEFAULT_CACHE_ENTRIES, EMPTY, SLEEP, safeSegment, toBuffer, type Batch, type ChainedBatch, type Entry, type Hook } from './level-state-internals.js';

/**
 * The LRU cache of a task's state in front of its LevelDB, and the write queue that bounds it:
 * dirty entries leave the cache as batches written in order. LevelTaskState adds the keyed
 * stores, snapshots and restore on top; the two share the entries and the batch order.
 */
export abstract class LevelWriteCache {
  /** Resolves once the database is open (it opens in the background after `create`). */
  readonly ready: Promise<void>;
  readonly location: string;

  protected readonly db: Level<Buffer, Buffer>;
  protected status: 'opening' | 'open' | 'closing' | 'closed' | 'failed' = 'opening';
  protected failure: StateError | undefined;
  protected readonly stores = new Map<string, LevelKeyedStore<unknown>>();

  // LRU cache: a doubly linked list through the entries of every store of the task.
  protected oldest: Entry | null = null;
  protected newest: Entry | null = null;
  protected cached = 0;
  protected dirty = 0;
  protected flushingCount = 0;
  protected peak = 0;
  protected batches = 0;
  protected blockingWaits = 0;

  // Write queue: one batch in flight at a time, so batches land in order.
  protected nextBatchId = 1;
  protected pending: Batch;
  protected readonly queue: Batch[] = [];
  protected inflight: Batch | null = null;
  protected readonly hooks = new Map<number, Hook[]>();
  protected idleWaiters: Hook[] = [];

  // Incremental snapshots.
  protected epoch = 1;

  protected readonly capacity: number;
  protected readonly chunk: number;
  protected readonly incremental: boolean;
  protected readonly maxChain: number;
  protected readonly syncTimeoutMs: number;

  constructor(
    protected readonly scope: TaskStateScope,
    options: LevelStateBackendOptions,
  ) {
    this.capacity = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new StateError('STATE_FAILED', `cacheEntries must be a positive integer, got ${this.capacity}`);
    this.chunk = Math.max(1, Math.min(options.evictionChunk ?? Math.min(1000, Math.floor(this.capacity / 10)), this.capacity));
    this.incremental = options.incremental ?? true;
    this.maxChain = options.maxIncrementalChain ?? 10;
    this.syncTimeoutMs = options.syncFlushTimeoutMs ?? 30_000;
    this.pending = this.newBatch();
    this.location = join(options.directory, safeSegment(scope.jobId), `${safeSegment(scope.operatorId)}-${scope.taskIndex}`);
    // The folder is a working copy: state that matters is in snapshots. A previous attempt's
    // files are dropped, so a new task starts empty (and restore() fills it).
    rmSync(this.location, { recursive: true, force: true });
    mkdirSync(this.location, { recursive: true });
    this.db = new Level<Buffer, Buffer>(this.location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    this.ready = this.db.open().then(
      () => {
        if (this.status === 'opening') this.status = 'open';
        this.kick();
      },
      (e: unknown) => {
        this.fail(e, 'open');
        throw this.failure;
      },
    );
    this.ready.catch(() => undefined); // reported by every later call
  }

  /** Entries in memory and the bound (see `LevelStateStats`). */
  stats(): LevelStateStats {
    return {
      capacity: this.capacity,
      cached: this.cached,
      dirty: this.dirty,
      flushing: this.flushingCount,
      peak: this.peak,
      batches: this.batches,
      blockingWaits: this.blockingWaits,
    };
  }

  // ---------------------------------------------------------------- cache

  /** @internal */
  assertUsable(): void {
    if (this.status === 'open' || this.status === 'opening') return;
    if (this.status === 'failed') throw this.failure!;
    throw new StateError('STATE_CLOSED', `state of ${this.taskName()} is closed`);
  }

  /** @internal Marks `e` most recently used. */
  touch(e: Entry): void {
    if (e === this.newest) return;
    this.unlink(e);
    this.link(e);
  }

  /** @internal */
  markDirty(e: Entry): void {
    if (!e.dirty) {
      e.dirty = true;
      this.dirty++;
    }
  }

  /** @internal A get() that missed the cache: the write queue, else LevelDB. */
  miss(store: LevelKeyedStore<unknown>, key: StateKey): unknown {
    this.assertUsable();
    const f = store.flushing.get(key);
    let value: unknown;
    if (f !== undefined) {
      value = f.bytes === undefined ? undefined : this.decode(store, key, f.bytes);
    } else if (this.status === 'open') {
      const bytes = this.db.getSync(this.dataKeyOf(store, key));
      value = bytes === undefined ? undefined : this.decode(store, key, bytes);
    }
    this.insert(store, key, value, value !== undefined, false);
    return value;
  }

  /** @internal Whether a key that is not in the cache exists (in the write queue or on disk). */
  existsUncached(store: LevelKeyedStore<unknown>, key: StateKey): boolean {
    this.assertUsable();
    const f = store.flushing.get(key);
    if (f !== undefined) return f.bytes !== undefined;
    if (this.status !== 'open') return false; // the folder was emptied at creation
    return this.db.getSync(this.dataKeyOf(store, key)) !== undefined;
  }

  /** @internal Adds an entry that is not in the cache, making room first. */
  insert(store: LevelKeyedStore<unknown>, key: StateKey, value: unknown, exists: boolean, dirty: boolean): void {
    this.ensureRoom();
    const e: Entry = { store, key, value, exists, dirty, older: null, newer: null };
    store.map.set(key, e);
    this.link(e);
    this.cached++;
    if (dirty) this.dirty++;
    const total = this.cached + this.flushingCount;
    if (total > this.peak) this.peak = total;
  }

  /**
   * Makes room for one more entry, keeping `cached + flushing < capacity`:
   * 1. from the least recently used end, drop clean entries (stop at the first) and move
   *    dirty ones to the write queue (at most `chunk` of them);
   * 2. if nothing could be dropped (everything old was dirty), start writing and block until
   *    the batch in flight is written (LevelDB writes on libuv's thread pool while this thread
   *    waits), which frees its entries.
   * Before the database is open nothing can be written, so the cache may grow past the bound.
   */
  protected ensureRoom(): void {
    while (this.cached + this.flushingCount >= this.capacity) {
      if (this.status !== 'open') return;
      let moved = 0;
      let freed = false;
      while (this.oldest !== null && moved < this.chunk) {
        const e = this.oldest;
        this.evict(e);
        if (!e.dirty) {
          freed = true;
          break;
        }
        this.dirty--;
        this.enqueue(e);
        moved++;
      }
      if (freed) continue;
      this.kick();
      if (this.inflight === null) throw new StateError('STATE_FAILED', `state of ${this.taskName()}: cache full and nothing to write (internal error)`);
      this.waitInflightSync();
    }
  }

  protected evict(e: Entry): void {
    this.unlink(e);
    e.store.map.delete(e.key);
    this.cached--;
  }

  protected link(e: Entry): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest !== null) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  protected unlink(e: Entry): void {
    if (e.older !== null) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = e.newer = null;
  }

  // ---------------------------------------------------------------- write queue

  protected newBatch(): Batch {
    return { id: this.nextBatchId++, chained: null, entries: [], done: false };
  }

  protected chained(b: Batch): ChainedBatch {
    if (b.chained === null) b.chained = this.db.batch();
    return b.chained;
  }

  /** Moves an evicted dirty entry to the write queue (as bytes), with its change mark. */
  protected enqueue(e: Entry): void {
    const store = e.store;
    const key = this.dataKeyOf(store, e.key);
    const batch = this.chained(this.pending);
    let bytes: Uint8Array | undefined;
    if (e.exists) {
      try {
        bytes = store.serializer.serialize(e.value);
      } catch (cause) {
        throw new StateError('STATE_SERIALIZATION', `state "${store.name}" of ${this.taskName()}: cannot serialize the value of key ${String(e.key)}`, { cause });
      }
      batch.put(key, toBuffer(bytes));
    } else {
      batch.del(key);
    }
    if (this.incremental) batch.put(markKey(this.epoch, key), EMPTY);
    this.pending.entries.push({ store, key: e.key });
    store.flushing.set(e.key, { bytes, batch: this.pending.id });
    this.flushingCount++;
  }

  /** Closes the open batch: later writes go to a new one. */
  protected seal(): void {
    if (this.pending.entries.length === 0) return;
    this.queue.push(this.pending);
    this.pending = this.newBatch();
  }

  /** Starts the next batch if none is in flight. */
  protected kick(): void {
    if (this.inflight !== null || this.status !== 'open') return;
    let b = this.queue.shift();
    if (b === undefined) {
      if (this.pending.entries.length === 0) {
        this.resolveIdle();
        return;
      }
      b = this.pending;
      this.pending = this.newBatch();
    }
    const seq = Buffer.allocUnsafe(4);
    seq.writeUInt32BE(b.id >>> 0, 0);
    const chained = this.chained(b);
    chained.put(Buffer.from(FLUSH_SEQ_KEY), seq);
    this.inflight = b;
    this.batches++;
    const batch = b;
    chained.write().then(
      () => this.complete(batch),
      (e: unknown) => this.fail(e, 'write'),
    );
  }

  /** A batch is on disk: its entries leave memory; snapshot hooks waiting for it run before the next batch starts. */
  protected complete(b: Batch): void {
    if (b.done) return;
    b.done = true;
    if (this.inflight === b) this.inflight = null;
    for (const { store, key } of b.entries) {
      const f = store.flushing.get(key);
      if (f !== undefined && f.batch === b.id) store.flushing.delete(key);
    }
    this.flushingCount -= b.entries.length;
    b.chained = null;
    b.entries = [];
    const hooks = this.hooks.get(b.id);
    if (hooks !== undefined) {
      this.hooks.delete(b.id);
      for (const h of hooks) h.resolve();
    }
    this.kick();
  }

  /**
   * Blocks this thread until the batch in flight is written. LevelDB applies the batch on a
   * thread-pool thread; the batch also writes its id under FLUSH_SEQ_KEY, so once getSync()
   * reads that id (or a later one) the whole batch is visible (batches are atomic).
   */
  protected waitInflightSync(): void {
    const b = this.inflight!;
    this.blockingWaits++;
    const deadline = Date.now() + this.syncTimeoutMs;
    for (;;) {
      if (this.status === 'failed') throw this.failure!;
      const seq = this.db.getSync(Buffer.from(FLUSH_SEQ_KEY));
      if (seq !== undefined && seq.readUInt32BE(0) >= b.id >>> 0) {
        this.complete(b);
        return;
      }
      if (Date.now() > deadline) {
        throw new StateError('STATE_FAILED', `state of ${this.taskName()}: a write to LevelDB took longer than ${this.syncTimeoutMs} ms while the cache was full`);
      }
      Atomics.wait(SLEEP, 0, 0, 0.2);
    }
  }

  /** Resolves once every queued write is on disk. */
  protected whenIdle(): Promise<void> {
    if (this.status === 'failed') return Promise.reject(this.failure);
    this.kick();
    if (this.inflight === null && this.queue.length === 0 && this.pending.entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  protected resolveIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w.resolve();
  }

  protected fail(e: unknown, what: string): void {
    if (this.status === 'failed') return;
    this.status = 'failed';
    this.failure = new StateError('STATE_FAILED', `state of ${this.taskName()}: LevelDB ${what} failed at ${this.location}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    for (const hooks of this.hooks.values()) for (const h of hooks) h.reject(this.failure);
    this.hooks.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w.reject(this.failure);
  }

  // ---------------------------------------------------------------- helpers

  protected dataKeyOf(store: LevelKeyedStore<unknown>, key: StateKey): Buffer {
    return dataKey(this.scope.keyGroupOf(key), store.prefix, key);
  }

  protected decode(store: LevelKeyedStore<unknown>, key: StateKey, bytes: Uint8Array): unknown {
    try {
      return store.serializer.deserialize(bytes);
    } catch (cause) {
      throw new StateError('STATE_SERIALIZATION', `state "${store.name}" of ${this.taskName()}: cannot deserialize the value of key ${String(key)}`, { cause });
    }
  }

  protected taskName(): string {
    return `operator ${this.scope.operatorId} task #${this.scope.taskIndex}`;
  }
}
