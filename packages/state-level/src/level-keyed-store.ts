import { StateError, type KeyedStore, type Serializer, type StateKey } from '@mobius/interface';
import { namePrefix } from './keys.js';
import type { Entry, Flushing } from './level-state-internals.js';
import type { LevelTaskState } from './level-task-state.js';

/** Per-key values of one named state, cached in front of LevelDB. */
export class LevelKeyedStore<V> implements KeyedStore<V> {
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
