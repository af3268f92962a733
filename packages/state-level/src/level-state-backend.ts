import { mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  StateError,
  type KeyedStore,
  type Serializer,
  type StateBackend,
  type StateKey,
  type SnapshotOptions,
  type StateSnapshot,
  type TaskStateBackend,
  type TaskStateScope,
} from '@mobius/interface';
import { Level } from 'level';
import { Packr } from 'msgpackr';
import {
  DATA_END,
  FLUSH_SEQ_KEY,
  dataKey,
  groupStart,
  keyGroupOfDataKey,
  markKey,
  markStart,
  namePrefix,
  nameOfDataKey,
} from './keys.js';
import { decodeGroup, encodeGroup, type GroupEntry } from './snapshot-format.js';

/** Options of the LevelDB state backend. */
export interface LevelStateBackendOptions {
  /** Root folder: each task keeps its LevelDB in `<directory>/<jobId>/<operatorId>-<taskIndex>`. */
  readonly directory: string;
  /**
   * Most state entries a task holds in memory: cached values (clean or dirty) plus evicted
   * entries whose write to LevelDB has not completed. Default 10,000.
   */
  readonly cacheEntries?: number;
  /** Track changed keys so snapshots after the first are incremental. Default true. */
  readonly incremental?: boolean;
  /** After this many incremental snapshots in a row, the next one is full (bounds the restore chain). Default 10. */
  readonly maxIncrementalChain?: number;
  /** How many entries an eviction moves out of the cache at once. Default min(1,000, max(1, cacheEntries / 10)). */
  readonly evictionChunk?: number;
  /** Longest time a put() may block waiting for a write to LevelDB when the cache is full of unwritten entries, ms. Default 30,000. */
  readonly syncFlushTimeoutMs?: number;
}

/**
 * A `StateSnapshot` of the level backend. The extra fields are optional in spirit (a reader
 * of the plain contract ignores them): an incremental snapshot holds only the entries
 * changed since `baseCheckpointId` (tombstones for deletes), and restoring it needs its
 * base chain, oldest first.
 */
export interface LevelStateSnapshot extends StateSnapshot {
  readonly incremental: boolean;
}

/** Memory use of one task, in entries (see `LevelStateBackendOptions.cacheEntries`). */
export interface LevelStateStats {
  /** The bound: `cached + flushing` never exceeds it once the database is open. */
  readonly capacity: number;
  /** Entries in the LRU cache (clean, dirty or known-absent). */
  readonly cached: number;
  /** Cached entries not yet written to LevelDB. */
  readonly dirty: number;
  /** Evicted entries held (as bytes) until their batch is written. */
  readonly flushing: number;
  /** Highest `cached + flushing` seen since creation. */
  readonly peak: number;
  /** Batches written to LevelDB. */
  readonly batches: number;
  /** Times a put()/get() blocked for a write to complete because memory was full. */
  readonly blockingWaits: number;
}

const DEFAULT_CACHE_ENTRIES = 10_000;
const EMPTY = Buffer.alloc(0);
const RESTORE_BATCH = 4096;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

const defaultPackr = new Packr({ useRecords: false, moreTypes: true });
/** msgpackr: plain objects, arrays, strings, numbers, booleans, null, undefined, Date, Set. A `Map` comes back as an object. */
const msgpackSerializer: Serializer<unknown> = {
  serialize: (value) => defaultPackr.pack(value),
  deserialize: (bytes) => defaultPackr.unpack(bytes),
};

interface Entry {
  readonly store: LevelKeyedStore<unknown>;
  readonly key: StateKey;
  value: unknown;
  /** false: the key is known to be absent (a miss, or a delete). */
  exists: boolean;
  /** Changed since it was read or written: must be written to LevelDB before it leaves memory. */
  dirty: boolean;
  /** Towards the least recently used end. */
  older: Entry | null;
  newer: Entry | null;
}

/** An evicted entry whose batch is not yet written: `bytes` undefined means deleted. */
interface Flushing {
  readonly bytes: Uint8Array | undefined;
  readonly batch: number;
}

type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/**
 * A batch of the write queue. Operations go straight into a LevelDB chained batch, which
 * copies them into native memory at once: the JavaScript heap keeps only `entries` (to find
 * the bytes in the stores' `flushing` maps), not the keys and values of the operations.
 */
interface Batch {
  readonly id: number;
  chained: ChainedBatch | null;
  entries: Array<{ store: LevelKeyedStore<unknown>; key: StateKey }>;
  done: boolean;
}

type ChainedBatch = ReturnType<Level<Buffer, Buffer>['batch']>;

interface SnapshotRecord {
  readonly checkpointId: number;
  readonly epoch: number;
  /** Number of incremental snapshots since the last full one (0 for a full one). */
  readonly depth: number;
  /** Checkpoints this snapshot's restore chain consists of (itself included). */
  readonly chain: readonly number[];
  /** The snapshot it is a delta on. Kept one level deep, so an abort can step back once. */
  base: SnapshotRecord | undefined;
}

interface Hook {
  resolve(): void;
  reject(e: unknown): void;
}

type View = ReturnType<Level<Buffer, Buffer>['snapshot']>;

/** The point in time of a snapshot: its epoch, and a LevelDB view taken once its writes landed. */
interface Cut {
  readonly epoch: number;
  readonly view: Promise<View>;
}

/** Per-key values of one named state, cached in front of LevelDB. */
class LevelKeyedStore<V> implements KeyedStore<V> {
  readonly map = new Map<StateKey, Entry>();
  readonly flushing = new Map<StateKey, Flushing>();
  readonly prefix: Uint8Array;
  count = 0;

  constructor(
    private readonly task: LevelTaskState,
    readonly name: string,
    readonly serializer: Serializer<unknown>,
  ) {
    this.prefix = namePrefix(name);
  }

  get(key: StateKey): V | undefined {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.task.touch(e);
      return e.value as V | undefined;
    }
    return this.task.miss(this as LevelKeyedStore<unknown>, key) as V | undefined;
  }

  put(key: StateKey, value: V): void {
    if (value === undefined) throw new StateError('STATE_FAILED', `state "${this.name}": cannot put undefined for key ${String(key)} (use delete)`);
    const e = this.map.get(key);
    if (e !== undefined) {
      this.task.assertUsable();
      if (!e.exists) {
        e.exists = true;
        this.count++;
      }
      e.value = value;
      this.task.markDirty(e);
      this.task.touch(e);
      return;
    }
    if (!this.task.existsUncached(this as LevelKeyedStore<unknown>, key)) this.count++;
    this.task.insert(this as LevelKeyedStore<unknown>, key, value, true, true);
  }

  delete(key: StateKey): void {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.task.assertUsable();
      if (e.exists) {
        e.exists = false;
        e.value = undefined;
        this.count--;
        this.task.markDirty(e);
      }
      this.task.touch(e);
      return;
    }
    if (!this.task.existsUncached(this as LevelKeyedStore<unknown>, key)) return;
    this.count--;
    this.task.insert(this as LevelKeyedStore<unknown>, key, undefined, false, true);
  }

  /** Exact number of keys held (kept up to date on put/delete, recounted on restore). */
  size(): number {
    return this.count;
  }
}

/**
 * The state of one task in one LevelDB. See the README for the layout, the cache and its
 * bound, and incremental snapshots.
 */
export class LevelTaskState implements TaskStateBackend {
  /** Resolves once the database is open (it opens in the background after `create`). */
  readonly ready: Promise<void>;
  readonly location: string;

  private readonly db: Level<Buffer, Buffer>;
  private status: 'opening' | 'open' | 'closing' | 'closed' | 'failed' = 'opening';
  private failure: StateError | undefined;
  private readonly stores = new Map<string, LevelKeyedStore<unknown>>();
  private restoredCounts = new Map<string, number>();

  // LRU cache: a doubly linked list through the entries of every store of the task.
  private oldest: Entry | null = null;
  private newest: Entry | null = null;
  private cached = 0;
  private dirty = 0;
  private flushingCount = 0;
  private peak = 0;
  private batches = 0;
  private blockingWaits = 0;

  // Write queue: one batch in flight at a time, so batches land in order.
  private nextBatchId = 1;
  private pending: Batch;
  private readonly queue: Batch[] = [];
  private inflight: Batch | null = null;
  private readonly hooks = new Map<number, Hook[]>();
  private idleWaiters: Hook[] = [];

  // Incremental snapshots.
  private epoch = 1;
  private lastSnapshot: SnapshotRecord | undefined;
  private snapshotChain: Promise<unknown> = Promise.resolve();

  private readonly capacity: number;
  private readonly chunk: number;
  private readonly incremental: boolean;
  private readonly maxChain: number;
  private readonly syncTimeoutMs: number;

  constructor(
    private readonly scope: TaskStateScope,
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

  keyed<V>(name: string, serializer?: Serializer<V>): KeyedStore<V> {
    let store = this.stores.get(name);
    if (store === undefined) {
      store = new LevelKeyedStore<unknown>(this, name, (serializer as Serializer<unknown> | undefined) ?? msgpackSerializer);
      store.count = this.restoredCounts.get(name) ?? 0;
      this.stores.set(name, store);
    }
    return store as unknown as KeyedStore<V>;
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
  private ensureRoom(): void {
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

  private evict(e: Entry): void {
    this.unlink(e);
    e.store.map.delete(e.key);
    this.cached--;
  }

  private link(e: Entry): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest !== null) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: Entry): void {
    if (e.older !== null) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = e.newer = null;
  }

  // ---------------------------------------------------------------- write queue

  private newBatch(): Batch {
    return { id: this.nextBatchId++, chained: null, entries: [], done: false };
  }

  private chained(b: Batch): ChainedBatch {
    if (b.chained === null) b.chained = this.db.batch();
    return b.chained;
  }

  /** Moves an evicted dirty entry to the write queue (as bytes), with its change mark. */
  private enqueue(e: Entry): void {
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
  private seal(): void {
    if (this.pending.entries.length === 0) return;
    this.queue.push(this.pending);
    this.pending = this.newBatch();
  }

  /** Starts the next batch if none is in flight. */
  private kick(): void {
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
  private complete(b: Batch): void {
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
  private waitInflightSync(): void {
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
  private whenIdle(): Promise<void> {
    if (this.status === 'failed') return Promise.reject(this.failure);
    this.kick();
    if (this.inflight === null && this.queue.length === 0 && this.pending.entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  private resolveIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private fail(e: unknown, what: string): void {
    if (this.status === 'failed') return;
    this.status = 'failed';
    this.failure = new StateError('STATE_FAILED', `state of ${this.taskName()}: LevelDB ${what} failed at ${this.location}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    for (const hooks of this.hooks.values()) for (const h of hooks) h.reject(this.failure);
    this.hooks.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w.reject(this.failure);
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Writes every dirty entry, then reads the state at that point (a LevelDB snapshot taken
   * between two batches, so writes made meanwhile are not included). The first snapshot, the
   * first after a restore, every `maxIncrementalChain + 1`-th and any with `{ full: true }`
   * hold every entry; the others hold only the entries changed since the previous snapshot,
   * with tombstones for deletes.
   */
  snapshot(checkpointId: number, options: SnapshotOptions = {}): Promise<LevelStateSnapshot> {
    let cut: Cut | undefined;
    try {
      // The snapshot's point in time is now (writes after this call are not in it), unless
      // the database is still opening: then it is once it is open.
      if (this.status === 'open') cut = this.cut();
    } catch (e) {
      return Promise.reject(e);
    }
    const take = (): Promise<LevelStateSnapshot> => this.takeSnapshot(checkpointId, options.full === true, cut);
    const run = this.snapshotChain.then(take, take);
    this.snapshotChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Every dirty entry goes to the write queue under the current epoch (entries leave the
   * cache, their bytes stay until written, so the memory bound holds); the epoch advances;
   * a LevelDB view is taken right after the last of those batches, before any later one.
   */
  private cut(): Cut {
    this.assertUsable();
    for (let e = this.oldest; e !== null; ) {
      const next = e.newer;
      if (e.dirty) {
        this.evict(e);
        this.dirty--;
        this.enqueue(e);
      }
      e = next;
    }
    const epoch = this.epoch++;
    this.seal();
    const target = this.queue.length > 0 ? this.queue[this.queue.length - 1].id : this.inflight?.id;
    let view: Promise<View>;
    if (target === undefined) {
      view = Promise.resolve(this.db.snapshot());
    } else {
      view = new Promise<View>((resolve, reject) => {
        const list = this.hooks.get(target) ?? [];
        list.push({ resolve: () => resolve(this.db.snapshot()), reject });
        this.hooks.set(target, list);
      });
      this.kick();
    }
    return { epoch, view };
  }

  private async takeSnapshot(checkpointId: number, forceFull: boolean, early: Cut | undefined): Promise<LevelStateSnapshot> {
    await this.ready;
    const cut = early ?? this.cut();
    const view = await cut.view;
    const epoch = cut.epoch;
    try {
      this.assertUsable();
      const last = this.lastSnapshot;
      const base = !forceFull && this.incremental && last !== undefined && last.depth < this.maxChain ? last : undefined;
      const groups = base === undefined ? await this.readFull(view) : await this.readChanges(view, base.epoch + 1, epoch);
      const record: SnapshotRecord = {
        checkpointId,
        epoch,
        depth: base === undefined ? 0 : base.depth + 1,
        chain: base === undefined ? [checkpointId] : [...base.chain, checkpointId],
        base,
      };
      if (base !== undefined) base.base = undefined;
      this.lastSnapshot = record;
      // Change marks a later delta can no longer need: up to the base (or this full snapshot).
      if (this.incremental) await this.dropMarks((base ?? record).epoch);
      const snap: LevelStateSnapshot = {
        backend: 'level',
        operatorId: this.scope.operatorId,
        checkpointId,
        keyGroups: this.scope.keyGroups,
        groups,
        incremental: base !== undefined,
        ...(base !== undefined ? { baseCheckpointId: base.checkpointId } : {}),
      };
      return snap;
    } finally {
      await view.close();
    }
  }

  /**
   * Checkpoint `checkpointId` will never complete: the next snapshot must not be a delta on
   * it. If it was the latest snapshot, the next delta is taken on the one before (whose change
   * marks are still kept); otherwise the next snapshot is full.
   */
  notifyCheckpointAborted(checkpointId: number): void {
    const last = this.lastSnapshot;
    if (last === undefined || !last.chain.includes(checkpointId)) return;
    this.lastSnapshot = last.checkpointId === checkpointId ? last.base : undefined;
  }

  /** Checkpoint `checkpointId` completed: change marks it covers are dropped early. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const last = this.lastSnapshot;
    if (last === undefined || last.checkpointId !== checkpointId || !this.incremental) return;
    last.base = undefined;
    await this.ready;
    this.assertUsable();
    await this.dropMarks(last.epoch);
  }

  private async dropMarks(upToEpoch: number): Promise<void> {
    await this.db.clear({ gte: markStart(0), lt: markStart(upToEpoch + 1) });
  }

  private async readFull(view: unknown): Promise<Map<number, Uint8Array>> {
    const groups = new Map<number, Uint8Array>();
    const it = this.db.iterator({ gte: groupStart(0), lt: Buffer.from(DATA_END), snapshot: view as never });
    let kg = -1;
    let entries: GroupEntry[] = [];
    try {
      for (;;) {
        const rows = await it.nextv(1024);
        if (rows.length === 0) break;
        for (const [key, value] of rows) {
          const g = keyGroupOfDataKey(key);
          if (g !== kg) {
            if (entries.length > 0) groups.set(kg, encodeGroup(entries, false));
            kg = g;
            entries = [];
          }
          entries.push({ key: key.subarray(2), value });
        }
      }
      if (entries.length > 0) groups.set(kg, encodeGroup(entries, false));
    } finally {
      await it.close();
    }
    return groups;
  }

  private async readChanges(view: unknown, fromEpoch: number, toEpoch: number): Promise<Map<number, Uint8Array>> {
    const changed = new Map<number, Map<string, Buffer>>();
    const it = this.db.keys({ gte: markStart(fromEpoch), lt: markStart(toEpoch + 1), snapshot: view as never });
    try {
      for (;;) {
        const keys = await it.nextv(4096);
        if (keys.length === 0) break;
        for (const mark of keys) {
          const key = mark.subarray(6);
          const g = keyGroupOfDataKey(key);
          let group = changed.get(g);
          if (group === undefined) changed.set(g, (group = new Map()));
          group.set(key.toString('latin1'), key);
        }
      }
    } finally {
      await it.close();
    }
    const groups = new Map<number, Uint8Array>();
    for (const g of [...changed.keys()].sort((a, b) => a - b)) {
      const entries: GroupEntry[] = [];
      for (const key of changed.get(g)!.values()) {
        const value = this.db.getSync(key, { snapshot: view as never });
        entries.push({ key: key.subarray(2), value });
      }
      groups.set(g, encodeGroup(entries, true));
    }
    return groups;
  }

  /**
   * Replaces this task's state with the given snapshots, applied in order, keeping only the
   * key groups of `scope.keyGroups`. A full snapshot replaces the key groups of its range; an
   * incremental one applies its entries and tombstones, and must come after its base. So
   * pass, per old task, its chain oldest first (full, delta, delta…); chains of several old
   * tasks (rescaling) may follow one another.
   */
  async restore(snapshots: readonly StateSnapshot[]): Promise<void> {
    await this.ready;
    this.assertUsable();
    await this.snapshotChain;
    await this.whenIdle();
    validateChain(snapshots);
    // Drop the cache and everything on disk.
    for (const store of this.stores.values()) {
      store.map.clear();
      store.flushing.clear();
      store.count = 0;
    }
    this.oldest = this.newest = null;
    this.cached = this.dirty = 0;
    await this.db.clear();

    const { start, end } = this.scope.keyGroups;
    for (const snap of snapshots as readonly LevelStateSnapshot[]) {
      if (snap.incremental !== true) {
        const from = Math.max(start, snap.keyGroups.start);
        const to = Math.min(end, snap.keyGroups.end);
        if (from <= to) await this.db.clear({ gte: groupStart(from), lt: groupStart(to + 1) });
      }
      let ops: Op[] = [];
      for (const [kg, bytes] of snap.groups) {
        if (kg < start || kg > end) continue;
        const prefix = groupStart(kg);
        for (const e of decodeGroup(bytes, `snapshot of checkpoint ${snap.checkpointId}, operator ${snap.operatorId}, key group ${kg}`)) {
          const key = Buffer.concat([prefix, e.key]);
          ops.push(e.value === undefined ? { type: 'del', key } : { type: 'put', key, value: toBuffer(e.value) });
          if (ops.length >= RESTORE_BATCH) {
            await this.db.batch(ops);
            ops = [];
          }
        }
      }
      if (ops.length > 0) await this.db.batch(ops);
    }
    await this.recount();
    this.lastSnapshot = undefined;
    this.epoch++;
  }

  /** Counts the keys of every state on disk (after a restore). */
  private async recount(): Promise<void> {
    const counts = new Map<string, number>();
    const it = this.db.keys({ gte: groupStart(0), lt: Buffer.from(DATA_END) });
    let lastPrefix: Buffer | undefined;
    let lastName = '';
    try {
      for (;;) {
        const keys = await it.nextv(4096);
        if (keys.length === 0) break;
        for (const key of keys) {
          const len = (key[2] << 8) | key[3];
          const prefix = key.subarray(2, 4 + len);
          if (lastPrefix === undefined || !prefix.equals(lastPrefix)) {
            lastPrefix = Buffer.from(prefix);
            lastName = nameOfDataKey(key);
          }
          counts.set(lastName, (counts.get(lastName) ?? 0) + 1);
        }
      }
    } finally {
      await it.close();
    }
    this.restoredCounts = counts;
    for (const store of this.stores.values()) store.count = counts.get(store.name) ?? 0;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Closes the database (waiting for writes in flight). The folder stays: `dispose()` removes
   * it. After close, every access throws `StateError` `STATE_CLOSED`.
   */
  async close(): Promise<void> {
    if (this.status === 'closed' || this.status === 'closing') return;
    await this.ready.catch(() => undefined);
    await this.snapshotChain;
    await this.whenIdle().catch(() => undefined);
    this.status = 'closing';
    for (const store of this.stores.values()) {
      store.map.clear();
      store.flushing.clear();
    }
    this.oldest = this.newest = null;
    this.cached = this.dirty = 0;
    await this.db.close();
    this.status = 'closed';
  }

  /** Closes the database and deletes its folder (and the job folder, once empty). */
  async dispose(): Promise<void> {
    await this.close();
    rmSync(this.location, { recursive: true, force: true });
    try {
      rmdirSync(join(this.location, '..'));
    } catch {
      // other tasks of the job still have folders there
    }
  }

  // ---------------------------------------------------------------- helpers

  private dataKeyOf(store: LevelKeyedStore<unknown>, key: StateKey): Buffer {
    return dataKey(this.scope.keyGroupOf(key), store.prefix, key);
  }

  private decode(store: LevelKeyedStore<unknown>, key: StateKey, bytes: Uint8Array): unknown {
    try {
      return store.serializer.deserialize(bytes);
    } catch (cause) {
      throw new StateError('STATE_SERIALIZATION', `state "${store.name}" of ${this.taskName()}: cannot deserialize the value of key ${String(key)}`, { cause });
    }
  }

  private taskName(): string {
    return `operator ${this.scope.operatorId} task #${this.scope.taskIndex}`;
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks backends and that every incremental snapshot follows its base. */
function validateChain(snapshots: readonly StateSnapshot[]): void {
  const seen: LevelStateSnapshot[] = [];
  for (const s of snapshots as readonly LevelStateSnapshot[]) {
    if (s.backend !== 'level') {
      throw new StateError('STATE_FAILED', `cannot restore a "${s.backend}" snapshot (operator ${s.operatorId}, checkpoint ${s.checkpointId}) into the level state backend`);
    }
    if (s.incremental === true) {
      const ok = seen.some(
        (b) => b.checkpointId === s.baseCheckpointId && b.operatorId === s.operatorId && b.keyGroups.start === s.keyGroups.start && b.keyGroups.end === s.keyGroups.end,
      );
      if (!ok) {
        throw new StateError(
          'STATE_FAILED',
          `incremental snapshot of checkpoint ${s.checkpointId} (operator ${s.operatorId}, key groups ${s.keyGroups.start}..${s.keyGroups.end}) needs its base checkpoint ${String(s.baseCheckpointId)} earlier in the list`,
        );
      }
    }
    seen.push(s);
  }
}

/** A folder name from an id: anything but letters, digits, '.', '_' and '-' is escaped. */
function safeSegment(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s === '.' || s === '..' || s === '' ? `%${s}` : s;
}

/**
 * The state backend on LevelDB: state on disk with a bounded in-memory cache, laid out by
 * key group, with incremental snapshots.
 *
 * ```ts
 * const backend = new LevelStateBackend({ directory: '/var/lib/mobius/state', cacheEntries: 50_000 });
 * ```
 */
export class LevelStateBackend implements StateBackend {
  readonly kind = 'level';
  readonly options: LevelStateBackendOptions;

  constructor(options: LevelStateBackendOptions) {
    if (typeof options?.directory !== 'string' || options.directory === '') throw new StateError('STATE_FAILED', 'LevelStateBackend needs a directory');
    this.options = { ...options };
  }

  /** The state of one task; its database opens in the background (`ready`). */
  create(scope: TaskStateScope): LevelTaskState {
    return new LevelTaskState(scope, this.options);
  }

  /** Like `create`, resolved once the database is open. */
  async open(scope: TaskStateScope): Promise<LevelTaskState> {
    const task = this.create(scope);
    await task.ready;
    return task;
  }
}
