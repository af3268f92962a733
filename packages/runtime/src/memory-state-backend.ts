import { serialize, deserialize } from 'node:v8';
import type { KeyedStore, StateBackend, StateKey, StateSnapshot, TaskStateBackend, TaskStateScope } from '@mobius/interface';

/** A keyed store in a plain Map: the fastest backend, bounded by the heap. */
class MemoryKeyedStore<V> implements KeyedStore<V> {
  readonly map = new Map<StateKey, V>();
  get(key: StateKey): V | undefined {
    return this.map.get(key);
  }
  put(key: StateKey, value: V): void {
    this.map.set(key, value);
  }
  delete(key: StateKey): void {
    this.map.delete(key);
  }
  size(): number {
    return this.map.size;
  }
}

class MemoryTaskState implements TaskStateBackend {
  private readonly stores = new Map<string, MemoryKeyedStore<unknown>>();

  constructor(private readonly scope: TaskStateScope) {}

  keyed<V>(name: string): KeyedStore<V> {
    let store = this.stores.get(name);
    if (store === undefined) {
      store = new MemoryKeyedStore<unknown>();
      this.stores.set(name, store);
    }
    return store as KeyedStore<V>;
  }

  /**
   * Key groups are computed only here, not on every access: while a task owns its keys the
   * store needs no hashing, and a snapshot splits them so they can move when rescaling.
   */
  async snapshot(checkpointId: number): Promise<StateSnapshot> {
    const perGroup = new Map<number, Record<string, [StateKey, unknown][]>>();
    for (const [name, store] of this.stores) {
      for (const [key, value] of store.map) {
        const kg = this.scope.keyGroupOf(key);
        let group = perGroup.get(kg);
        if (group === undefined) perGroup.set(kg, (group = {}));
        (group[name] ??= []).push([key, value]);
      }
    }
    const groups = new Map<number, Uint8Array>();
    for (const [kg, content] of perGroup) groups.set(kg, serialize(content));
    return { backend: 'memory', operatorId: this.scope.operatorId, checkpointId, keyGroups: this.scope.keyGroups, groups };
  }

  async restore(snapshots: readonly StateSnapshot[]): Promise<void> {
    const { start, end } = this.scope.keyGroups;
    for (const snap of snapshots) {
      for (const [kg, bytes] of snap.groups) {
        if (kg < start || kg > end) continue;
        const content = deserialize(bytes) as Record<string, [StateKey, unknown][]>;
        for (const [name, entries] of Object.entries(content)) {
          const store = this.keyed<unknown>(name) as MemoryKeyedStore<unknown>;
          for (const [k, v] of entries) store.map.set(k, v);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.stores.clear();
  }
}

/** The in-memory state backend (default). */
export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  create(scope: TaskStateScope): TaskStateBackend {
    return new MemoryTaskState(scope);
  }
}
