import { ProcessError, type BroadcastState, type MapStateDescriptor } from '@mobius/interface';

/** One broadcast state: a map, seen writable by the broadcast side and read-only by the other. */
class BroadcastMap implements BroadcastState<unknown, unknown> {
  constructor(
    readonly map: Map<unknown, unknown>,
    private readonly readOnly: string | undefined,
  ) {}

  get(key: unknown): unknown {
    return this.map.get(key);
  }

  contains(key: unknown): boolean {
    return this.map.has(key);
  }

  entries(): IterableIterator<[unknown, unknown]> {
    return this.map.entries();
  }

  put(key: unknown, value: unknown): void {
    this.check('put');
    this.map.set(key, value);
  }

  remove(key: unknown): void {
    this.check('remove');
    this.map.delete(key);
  }

  clear(): void {
    this.check('clear');
    this.map.clear();
  }

  private check(method: string): void {
    if (this.readOnly !== undefined) {
      throw new ProcessError(
        'BROADCAST_STATE_READ_ONLY',
        `broadcast state is read-only in processElement of "${this.readOnly}": ${method}() is only allowed in processBroadcastElement, so that every task keeps the same state`,
      );
    }
  }
}

/** What a task's broadcast states look like in its snapshot: name → entries. */
export type BroadcastStatesSnapshot = Record<string, [unknown, unknown][]>;

/**
 * The broadcast states of one operator in one task (Flink's broadcast state): operator state by
 * descriptor name. Every task receives every broadcast record, so every task holds the same maps;
 * they are checkpointed with the task, and on a restore each task takes task 0's copy.
 */
export class BroadcastStates {
  private readonly maps = new Map<string, Map<unknown, unknown>>();
  private readonly writable = new Map<string, BroadcastMap>();
  private readonly readable = new Map<string, BroadcastMap>();

  /** `operatorName` names the operator in the read-only error. */
  constructor(private readonly operatorName: string) {}

  /** The state of `descriptor`, writable (`processBroadcastElement`) or read-only (`processElement`). */
  get<K, V>(descriptor: MapStateDescriptor<K, V>, writable: boolean): BroadcastState<K, V> {
    const name = descriptor?.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new ProcessError('PROCESS_INVALID_ARGUMENT', `getBroadcastState() of "${this.operatorName}" takes a MapStateDescriptor with a name, got ${JSON.stringify(descriptor)}`);
    }
    const views = writable ? this.writable : this.readable;
    let view = views.get(name);
    if (view === undefined) {
      let map = this.maps.get(name);
      if (map === undefined) this.maps.set(name, (map = new Map()));
      view = new BroadcastMap(map, writable ? undefined : this.operatorName);
      views.set(name, view);
    }
    return view as unknown as BroadcastState<K, V>;
  }

  snapshot(): BroadcastStatesSnapshot {
    const out: BroadcastStatesSnapshot = {};
    for (const [name, map] of this.maps) out[name] = [...map.entries()];
    return out;
  }

  /** Replaces every map by the snapshot's (views taken before stay valid). */
  restore(snapshot: BroadcastStatesSnapshot): void {
    for (const map of this.maps.values()) map.clear();
    for (const [name, entries] of Object.entries(snapshot)) {
      let map = this.maps.get(name);
      if (map === undefined) this.maps.set(name, (map = new Map()));
      for (const [k, v] of entries) map.set(k, v);
    }
  }
}
