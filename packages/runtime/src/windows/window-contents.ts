import type { KeyedStore } from '@mobius/interface';
import { GlobalWindow, TimeWindow, type Window, type WindowContentsSpec } from '@mobius/windowing';
import type { KeySource } from '../state/key-context.js';

/**
 * A window as two numbers, for keyed state: a TimeWindow by its bounds, the GlobalWindow as
 * (-Infinity, +Infinity). Windows of one operator are all of one sort, so the pair is enough.
 */
export const windowStart = (w: Window): number => (w instanceof TimeWindow ? w.start : -Infinity);
export const windowEnd = (w: Window): number => (w instanceof TimeWindow ? w.end : Infinity);
export const windowOf = (start: number, end: number): Window => (start === -Infinity ? GlobalWindow.INSTANCE : new TimeWindow(start, end));

/** `[start, end, value]`: the contents of one window of the current key. */
type Slot = [number, number, unknown];

/**
 * The contents of the windows of each key, in one keyed store (so they are checkpointed,
 * restored and rescaled with their key group): per key, one slot per open window holding the
 * reduced value, the aggregate's accumulator, or (for a process function) the records. Reduce
 * and aggregate therefore keep one value per key and window, never the records.
 */
export class WindowContents {
  constructor(
    private readonly store: KeyedStore<Slot[]>,
    private readonly keys: KeySource,
    private readonly spec: WindowContentsSpec,
  ) {}

  private find(slots: Slot[] | undefined, w: Window): number {
    if (slots === undefined) return -1;
    const s = windowStart(w);
    const e = windowEnd(w);
    for (let i = 0; i < slots.length; i++) if (slots[i][0] === s && slots[i][1] === e) return i;
    return -1;
  }

  /** Folds `record` into window `w` of the current key. */
  add(w: Window, record: unknown): void {
    const key = this.keys.key();
    let slots = this.store.get(key);
    const i = this.find(slots, w);
    const spec = this.spec;
    if (i < 0) {
      const value = spec.kind === 'reduce' ? record : spec.kind === 'aggregate' ? spec.aggregate.add(record, spec.aggregate.createAccumulator()) : [record];
      if (slots === undefined) slots = [];
      slots.push([windowStart(w), windowEnd(w), value]);
    } else {
      const slot = slots![i];
      if (spec.kind === 'reduce') slot[2] = spec.reduce(slot[2], record);
      else if (spec.kind === 'aggregate') slot[2] = spec.aggregate.add(record, slot[2]);
      else {
        const records = slot[2] as unknown[];
        records.push(record);
        // A sliding count window keeps only its last n records (Flink's CountEvictor).
        if (spec.keepLast !== undefined && records.length > spec.keepLast) records.splice(0, records.length - spec.keepLast);
      }
    }
    this.store.put(key, slots!);
  }

  /** What a firing of window `w` hands the window function: the one value, or the records (undefined: the window is empty). */
  inputs(w: Window): readonly unknown[] | undefined {
    const slots = this.store.get(this.keys.key());
    const i = this.find(slots, w);
    if (i < 0) return undefined;
    const value = slots![i][2];
    const spec = this.spec;
    if (spec.kind === 'list') {
      const records = value as unknown[];
      if (records.length === 0) return undefined;
      const fold = spec.fold;
      if (fold === undefined) return records;
      if (fold.kind === 'reduce') return [records.reduce(fold.reduce)];
      let acc = fold.aggregate.createAccumulator();
      for (let i = 0; i < records.length; i++) acc = fold.aggregate.add(records[i], acc);
      return [fold.aggregate.getResult(acc)];
    }
    return [spec.kind === 'aggregate' ? spec.aggregate.getResult(value) : value];
  }

  clear(w: Window): void {
    const key = this.keys.key();
    const slots = this.store.get(key);
    const i = this.find(slots, w);
    if (i < 0) return;
    slots!.splice(i, 1);
    if (slots!.length === 0) this.store.delete(key);
    else this.store.put(key, slots!);
  }

  /** Session merge: the contents of `sources` are folded into `target`'s, and removed. */
  merge(target: Window, sources: readonly Window[]): void {
    const key = this.keys.key();
    const slots = this.store.get(key);
    if (slots === undefined) return;
    let t = this.find(slots, target);
    for (const source of sources) {
      const i = this.find(slots, source);
      if (i < 0) continue;
      const value = slots[i][2];
      slots.splice(i, 1);
      if (t > i) t--;
      if (t < 0) {
        slots.push([windowStart(target), windowEnd(target), value]);
        t = slots.length - 1;
      } else slots[t][2] = this.combine(slots[t][2], value);
    }
    this.store.put(key, slots);
  }

  private combine(a: unknown, b: unknown): unknown {
    const spec = this.spec;
    if (spec.kind === 'reduce') return spec.reduce(a, b);
    if (spec.kind === 'aggregate') return spec.aggregate.merge!(a, b);
    return (a as unknown[]).concat(b as unknown[]);
  }

  /** Number of open windows of the current key (tests: state stays one value per window). */
  windowCount(): number {
    return this.store.get(this.keys.key())?.length ?? 0;
  }
}
