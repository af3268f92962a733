import { serialize, deserialize } from 'node:v8';
import type { KeyedStore, StateBackend, SnapshotOptions, StateKey, StateSnapshot, TaskStateBackend, TaskStateScope } from '@mobius/interface';

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

/** One key group of a snapshot: version 2 (columns per store) or version 1 (pairs per store). */
type ColumnarGroup = { v: 2; stores: Record<string, [StateKey[], unknown[]]> };
type GroupContent = ColumnarGroup | Record<string, [StateKey, unknown][]>;

function isColumnar(content: GroupContent): content is ColumnarGroup {
  return (content as ColumnarGroup).v === 2 && typeof (content as ColumnarGroup).stores === 'object';
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
   *
   * Each key group is one V8-serialised `{ v: 2, stores: { name: [keys, values] } }`: two flat
   * arrays per store rather than a [key, value] pair per entry, which halves the time a
   * checkpoint holds the task (the pairs cost an allocation each and a nested array in the
   * encoding). Version-1 groups (name → [key, value][]) still restore.
   */
  // Always a full snapshot: `SnapshotOptions.full` changes nothing here.
  async snapshot(checkpointId: number, _options?: SnapshotOptions): Promise<StateSnapshot> {
    const { start, end } = this.scope.keyGroups;
    const keyGroupOf = this.scope.keyGroupOf;
    // Indexed by key group - start (a key outside the range, which only operator state under
    // another task's group can be, goes to a side map).
    const inRange: (Record<string, [StateKey[], unknown[]]> | undefined)[] = new Array(end - start + 1);
    const outside = new Map<number, Record<string, [StateKey[], unknown[]]>>();
    for (const [name, store] of this.stores) {
      for (const [key, value] of store.map) {
        const kg = keyGroupOf(key);
        let group = kg >= start && kg <= end ? (inRange[kg - start] ??= {}) : outside.get(kg);
        if (group === undefined) outside.set(kg, (group = {}));
        const columns = (group[name] ??= [[], []]);
        columns[0].push(key);
        columns[1].push(value);
      }
    }
    const groups = new Map<number, Uint8Array>();
    for (let i = 0; i < inRange.length; i++) {
      const stores = inRange[i];
      if (stores !== undefined) groups.set(start + i, serialize({ v: 2, stores }));
    }
    for (const [kg, stores] of outside) groups.set(kg, serialize({ v: 2, stores }));
    return { backend: 'memory', operatorId: this.scope.operatorId, checkpointId, keyGroups: this.scope.keyGroups, groups };
  }

  async restore(snapshots: readonly StateSnapshot[]): Promise<void> {
    const { start, end } = this.scope.keyGroups;
    for (const snap of snapshots) {
      for (const [kg, bytes] of snap.groups) {
        if (kg < start || kg > end) continue;
        const content = deserialize(bytes) as GroupContent;
        if (isColumnar(content)) {
          for (const [name, [keys, values]] of Object.entries(content.stores)) {
            const map = (this.keyed<unknown>(name) as MemoryKeyedStore<unknown>).map;
            for (let i = 0; i < keys.length; i++) map.set(keys[i], values[i]);
          }
        } else {
          for (const [name, entries] of Object.entries(content)) {
            const map = (this.keyed<unknown>(name) as MemoryKeyedStore<unknown>).map;
            for (const [k, v] of entries) map.set(k, v);
          }
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
