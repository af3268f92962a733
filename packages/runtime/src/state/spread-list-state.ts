import type { KeyedStore, ListState } from '@mobius/interface';
import { appendTo } from './handles.js';
import { operatorStateKey } from './operator-state.js';

/**
 * Operator list state spread over the key groups its task owns: element j of the list sits at
 * key group `start + (j mod n)` (n key groups), read back in that interleaved order. A restore
 * at another parallelism hands each new task the key groups it owns, so an old task's list is
 * redistributed as evenly as its key groups are (Flink's round-robin split of operator list
 * state); lists of several old tasks merge. On open the task's elements are laid out again, so
 * the interleaving holds from then on: the order of a list survives a restore at the same
 * parallelism; after a rescale it is the order in which the pieces arrived.
 */
export class SpreadListState<T> implements ListState<T> {
  private readonly n: number;
  /** The whole list, in order; kept in step with the store. */
  private list: T[];

  constructor(
    private readonly store: KeyedStore<T[]>,
    private readonly range: { readonly start: number; readonly end: number },
  ) {
    this.n = range.end - range.start + 1;
    this.list = this.read();
    this.write(this.list);
  }

  get(): readonly T[] {
    return this.list;
  }

  add(value: T): void {
    appendTo(this.store, operatorStateKey(this.range.start + (this.list.length % this.n)), value);
    this.list.push(value);
  }

  addAll(values: readonly T[]): void {
    for (const v of values) this.add(v);
  }

  update(values: readonly T[]): void {
    this.clear();
    this.list = values.slice();
    this.write(this.list);
  }

  clear(): void {
    for (let g = this.range.start; g <= this.range.end; g++) this.store.delete(operatorStateKey(g));
    this.list = [];
  }

  /** The elements of every key group of the range, interleaved (round by round over the key groups). */
  private read(): T[] {
    const parts: (readonly T[])[] = [];
    for (let g = this.range.start; g <= this.range.end; g++) {
      const part = this.store.get(operatorStateKey(g));
      if (part !== undefined && part.length > 0) parts.push(part.slice());
    }
    if (parts.length <= 1) return parts.length === 0 ? [] : [...parts[0]];
    const out: T[] = [];
    for (let round = 0; out.length < parts.reduce((s, p) => s + p.length, 0); round++) {
      for (const p of parts) if (round < p.length) out.push(p[round]);
    }
    return out;
  }

  /** Lays `list` out over the range (element j at key group start + j mod n), replacing what was there. */
  private write(list: readonly T[]): void {
    const parts: T[][] = Array.from({ length: Math.min(this.n, list.length) }, () => []);
    for (let j = 0; j < list.length; j++) parts[j % this.n].push(list[j]);
    for (let g = this.range.start; g <= this.range.end; g++) {
      const part = parts[g - this.range.start];
      const key = operatorStateKey(g);
      if (part === undefined || part.length === 0) {
        if (this.store.get(key) !== undefined) this.store.delete(key);
      } else this.store.put(key, part);
    }
  }
}
