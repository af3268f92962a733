import { serialize, deserialize } from 'node:v8';
import type { KeyedStore, ListState, MapState, Serializer, StateKey, ValueState } from '@mobius/interface';
import type { KeySource } from './key-context.js';

/**
 * The state handles, on top of a `KeyedStore` (one store per state name). Each write calls
 * `store.put` (or `delete`) so a backend that caches and writes bytes (LevelDB) sees every
 * change. The memory backend keeps values by reference: the array a `ListState.get()` returns
 * and the objects put in a `ValueState` or a `MapState` are the stored ones, not copies.
 */

const EMPTY: readonly never[] = Object.freeze([]);

/** Appends `value` to the list at `key` (put back, so a backend that writes bytes sees it). */
export function appendTo<T>(store: KeyedStore<T[]>, key: StateKey, value: T): void {
  const list = store.get(key);
  if (list === undefined) store.put(key, [value]);
  else {
    list.push(value);
    store.put(key, list);
  }
}

export class StoreValueState<T> implements ValueState<T> {
  constructor(
    private readonly store: KeyedStore<T>,
    private readonly scope: KeySource,
    private readonly defaultValue: T | undefined,
  ) {}

  value(): T | undefined {
    const v = this.store.get(this.scope.key());
    return v === undefined ? this.defaultValue : v;
  }

  update(value: T): void {
    this.store.put(this.scope.key(), value);
  }

  clear(): void {
    this.store.delete(this.scope.key());
  }
}

export class StoreListState<T> implements ListState<T> {
  constructor(
    private readonly store: KeyedStore<T[]>,
    private readonly scope: KeySource,
  ) {}

  get(): readonly T[] {
    return this.store.get(this.scope.key()) ?? EMPTY;
  }

  add(value: T): void {
    appendTo(this.store, this.scope.key(), value);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const key = this.scope.key();
    const list = this.store.get(key);
    if (list === undefined) this.store.put(key, values.slice());
    else {
      for (let i = 0; i < values.length; i++) list.push(values[i]);
      this.store.put(key, list);
    }
  }

  update(values: readonly T[]): void {
    const key = this.scope.key();
    if (values.length === 0) this.store.delete(key);
    else this.store.put(key, values.slice());
  }

  clear(): void {
    this.store.delete(this.scope.key());
  }
}

const emptyIterator = <X>(): IterableIterator<X> => ([] as X[])[Symbol.iterator]();

/** Map keys are compared as in a JavaScript `Map`: primitives by value, objects by reference. */
export class StoreMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly store: KeyedStore<Map<K, V>>,
    private readonly scope: KeySource,
  ) {}

  private map(): Map<K, V> | undefined {
    return this.store.get(this.scope.key());
  }

  get(key: K): V | undefined {
    return this.map()?.get(key);
  }

  put(key: K, value: V): void {
    const k = this.scope.key();
    const map = this.store.get(k) ?? new Map<K, V>();
    map.set(key, value);
    this.store.put(k, map);
  }

  remove(key: K): void {
    const k = this.scope.key();
    const map = this.store.get(k);
    if (map === undefined || !map.delete(key)) return;
    if (map.size === 0) this.store.delete(k);
    else this.store.put(k, map);
  }

  contains(key: K): boolean {
    return this.map()?.has(key) ?? false;
  }

  entries(): IterableIterator<[K, V]> {
    return this.map()?.entries() ?? emptyIterator();
  }

  keys(): IterableIterator<K> {
    return this.map()?.keys() ?? emptyIterator();
  }

  values(): IterableIterator<V> {
    return this.map()?.values() ?? emptyIterator();
  }

  isEmpty(): boolean {
    const map = this.map();
    return map === undefined || map.size === 0;
  }

  clear(): void {
    this.store.delete(this.scope.key());
  }
}

/** Encodes a list with an element serializer: a count, then each element's length and bytes. */
export function listSerializer<T>(element: Serializer<T>): Serializer<T[]> {
  return {
    serialize(values) {
      const parts = values.map((v) => element.serialize(v));
      const out = new Uint8Array(4 + parts.reduce((n, p) => n + 4 + p.length, 0));
      const view = new DataView(out.buffer);
      view.setUint32(0, parts.length);
      let at = 4;
      for (const p of parts) {
        view.setUint32(at, p.length);
        out.set(p, at + 4);
        at += 4 + p.length;
      }
      return out;
    },
    deserialize(bytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const n = view.getUint32(0);
      const values: T[] = [];
      let at = 4;
      for (let i = 0; i < n; i++) {
        const len = view.getUint32(at);
        values.push(element.deserialize(bytes.subarray(at + 4, at + 4 + len)));
        at += 4 + len;
      }
      return values;
    },
  };
}

/** A `Map` survives as a `Map` (a msgpack default would turn it into an object). */
export const mapSerializer: Serializer<Map<unknown, unknown>> = {
  serialize: (map) => serialize(map),
  deserialize: (bytes) => deserialize(bytes) as Map<unknown, unknown>,
};

/** A list kept in an array the task owns (union list state, snapshotted with the task). */
export class ArrayListState<T> implements ListState<T> {
  constructor(private readonly list: T[]) {}

  get(): readonly T[] {
    return this.list;
  }

  add(value: T): void {
    this.list.push(value);
  }

  addAll(values: readonly T[]): void {
    for (const v of values) this.list.push(v);
  }

  update(values: readonly T[]): void {
    this.list.length = 0;
    this.addAll(values);
  }

  clear(): void {
    this.list.length = 0;
  }
}
