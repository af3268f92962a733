import type { Serializer } from './codec.js';

/**
 * Keyed state (Flink's): named state that a rich function on a keyed stream takes in open()
 * through `ctx.getState(...)`, `ctx.getListState(...)` or `ctx.getMapState(...)`. Every access
 * is scoped to the key of the record being processed, and the state is part of every
 * checkpoint. Build descriptors with `valueState()`, `listState()` and `mapState()`.
 */

/** Describes a `ValueState`: one value per key. */
export interface ValueStateDescriptor<T> {
  readonly kind?: 'value';
  /** Unique per operator: the name the state has in snapshots. */
  readonly name: string;
  /** How a backend that stores bytes encodes the value (the memory backend keeps objects). */
  readonly serializer?: Serializer<T>;
  /** What `value()` returns for a key that has no value. */
  readonly defaultValue?: T;
}

/** Describes a `ListState`: a list of values per key (or per task, for operator state). */
export interface ListStateDescriptor<T> {
  readonly kind?: 'list';
  readonly name: string;
  /** How a backend that stores bytes encodes one element. */
  readonly serializer?: Serializer<T>;
}

/** Describes a `MapState`: a map of values per key. */
export interface MapStateDescriptor<K, V> {
  readonly kind?: 'map';
  readonly name: string;
  /** Phantom uses of K and V, so descriptors of different types differ. */
  readonly __types?: [K, V];
}

export type StateDescriptor = ValueStateDescriptor<unknown> | ListStateDescriptor<unknown> | MapStateDescriptor<unknown, unknown>;

/** A `ValueStateDescriptor` named `name`. */
export function valueState<T>(name: string, options: { serializer?: Serializer<T>; defaultValue?: T } = {}): ValueStateDescriptor<T> {
  return { kind: 'value', name, ...options };
}

/** A `ListStateDescriptor` named `name`. */
export function listState<T>(name: string, options: { serializer?: Serializer<T> } = {}): ListStateDescriptor<T> {
  return { kind: 'list', name, ...options };
}

/** A `MapStateDescriptor` named `name`. */
export function mapState<K, V>(name: string): MapStateDescriptor<K, V> {
  return { kind: 'map', name };
}

/** One value for the current key. */
export interface ValueState<T> {
  /** The current key's value, or the descriptor's `defaultValue` when it has none. */
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** A list of values for the current key. */
export interface ListState<T> {
  /** The current key's list; empty when it has none. Do not modify it: use add/update. */
  get(): readonly T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  /** Replaces the list. */
  update(values: readonly T[]): void;
  clear(): void;
}

/** A map of values for the current key. */
export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  remove(key: K): void;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  clear(): void;
}
