import { rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { StateError, type KeyedStore, type Serializer, type SnapshotOptions, type StateSnapshot, type TaskStateBackend } from '@mobius/interface';
import { DATA_END, groupStart, keyGroupOfDataKey, markStart, nameOfDataKey } from './keys.js';
import { LevelKeyedStore } from './level-keyed-store.js';
import type { LevelStateSnapshot } from './level-state-options.js';
import { RESTORE_BATCH, msgpackSerializer, toBuffer, type Cut, type Op, type SnapshotRecord, type View } from './level-state-internals.js';
import { decodeGroup, encodeGroup, type GroupEntry } from './snapshot-format.js';
import { LevelWriteCache } from './level-write-cache.js';

/**
 * The state of one task in one LevelDB. See the README for the layout, the cache and its
 * bound, and incremental snapshots.
 */
export class LevelTaskState extends LevelWriteCache implements TaskStateBackend {
  /** Timers of keyed operators live in this LevelDB with the rest of the state (see StateTimerService). */
  readonly timersInState = true;
  private restoredCounts = new Map<string, number>();
  private lastSnapshot: SnapshotRecord | undefined;
  private snapshotChain: Promise<unknown> = Promise.resolve();

  keyed<V>(name: string, serializer?: Serializer<V>): KeyedStore<V> {
    let store = this.stores.get(name);
    if (store === undefined) {
      store = new LevelKeyedStore<unknown>(this, name, (serializer as Serializer<unknown> | undefined) ?? msgpackSerializer);
      store.count = this.restoredCounts.get(name) ?? 0;
      this.stores.set(name, store);
    }
    return store as unknown as KeyedStore<V>;
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
