import {
  MobiusError,
  type KeyGroupRange,
  type KeyedStore,
  type ListState,
  type ListStateDescriptor,
  type MapState,
  type MapStateDescriptor,
  type TaskStateBackend,
  type ValueState,
  type ValueStateDescriptor,
} from '@mobius/interface';
import type { KeyContext } from './key-context.js';
import { ArrayListState, StoreListState, StoreMapState, StoreValueState, listSerializer, mapSerializer } from './handles.js';
import { OPERATOR_STATE_NAME_PREFIX } from './operator-state.js';
import { SpreadListState } from './spread-list-state.js';

export interface StateAccessInit {
  readonly operatorId: string;
  readonly operatorName: string;
  /** The current key of a keyed operator; undefined for an operator that is not keyed. */
  readonly keys: KeyContext | undefined;
  /** Key groups the task owns (operator state lives at the first). */
  readonly keyGroups: KeyGroupRange;
  /** The operator's state in this task, created on first use if the task has none yet. */
  backend(): TaskStateBackend;
  /** State names the operator uses itself (reduce: 'reduce'). */
  readonly reserved?: readonly string[];
  /** The task's union list `name` of this operator (restored: the union of every old task's), created on first use. */
  union?(name: string): unknown[];
}

type Kind = 'value' | 'list' | 'map' | 'operator' | 'union';

/** Creates the state handles of one operator of a task (behind `RuntimeContext.getState` & co.). */
export class StateAccess {
  private readonly handles = new Map<string, { kind: Kind; handle: unknown }>();

  constructor(private readonly init: StateAccessInit) {}

  private describe(): string {
    return `operator "${this.init.operatorName}" (${this.init.operatorId})`;
  }

  private keysFor(method: string): KeyContext {
    const keys = this.init.keys;
    if (keys === undefined) {
      throw new MobiusError(
        'STATE_NOT_KEYED',
        `${method}() is keyed state but ${this.describe()} is not keyed: call keyBy() before this operator (or use getOperatorState() for per-task state)`,
      );
    }
    return keys;
  }

  private handle<H>(kind: Kind, d: { readonly name: string; readonly kind?: string }, create: () => H): H {
    const name = d.name;
    if (typeof name !== 'string' || name.length === 0 || name.startsWith(OPERATOR_STATE_NAME_PREFIX)) {
      throw new MobiusError('STATE_INVALID_NAME', `${this.describe()}: invalid state name ${JSON.stringify(name)}`);
    }
    const expected = kind === 'operator' || kind === 'union' ? 'list' : kind;
    if (d.kind !== undefined && d.kind !== expected) {
      throw new MobiusError('STATE_DESCRIPTOR_MISMATCH', `${this.describe()}: state "${name}" is described as ${d.kind} state but was asked for as ${expected} state`);
    }
    if (kind !== 'operator' && kind !== 'union' && this.init.reserved?.includes(name)) {
      throw new MobiusError('STATE_INVALID_NAME', `${this.describe()}: the state name "${name}" is used by the operator itself; choose another name`);
    }
    const id = kind === 'operator' || kind === 'union' ? OPERATOR_STATE_NAME_PREFIX + name : name;
    const existing = this.handles.get(id);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new MobiusError('STATE_DESCRIPTOR_MISMATCH', `${this.describe()}: state "${name}" is already ${existing.kind} state, it cannot also be ${kind} state`);
      }
      return existing.handle as H;
    }
    const handle = create();
    this.handles.set(id, { kind, handle });
    return handle;
  }

  getState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    const keys = this.keysFor('getState');
    return this.handle('value', d, () => new StoreValueState<T>(this.init.backend().keyed<T>(d.name, d.serializer), keys, d.defaultValue));
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    const keys = this.keysFor('getListState');
    return this.handle('list', d, () => new StoreListState<T>(this.listStore(d.name, d), keys));
  }

  getMapState<K, V>(d: MapStateDescriptor<K, V>): MapState<K, V> {
    const keys = this.keysFor('getMapState');
    return this.handle(
      'map',
      d,
      () => new StoreMapState<K, V>(this.init.backend().keyed<Map<K, V>>(d.name, mapSerializer as never), keys),
    );
  }

  getOperatorState<T>(d: ListStateDescriptor<T>): ListState<T> {
    // Spread over the task's key groups, so a rescale splits it as evenly as its key groups.
    return this.handle('operator', d, () => new SpreadListState<T>(this.listStore(OPERATOR_STATE_NAME_PREFIX + d.name, d), this.init.keyGroups));
  }

  getUnionOperatorState<T>(d: ListStateDescriptor<T>): ListState<T> {
    const union = this.init.union;
    if (union === undefined) throw new MobiusError('STATE_UNSUPPORTED', `${this.describe()}: union list state is not available here`);
    return this.handle('union', d, () => new ArrayListState<T>(union(d.name) as T[]));
  }

  private listStore<T>(storeName: string, d: ListStateDescriptor<T>): KeyedStore<T[]> {
    return this.init.backend().keyed<T[]>(storeName, d.serializer === undefined ? undefined : listSerializer(d.serializer));
  }
}
