import { TaskFailedError, normalizeKey, type Collector, type KeyedStore } from '@mobius/interface';
import { KeyContext } from '../state/key-context.js';
import { describe, expect, it } from 'vitest';
import { rejection, settle } from '../test-channels.js';
import { discard, type OperatorIdentity } from './operator.js';
import { KeyedOperator } from './keyed-operator.js';
import { ReduceOperator } from './reduce-operator.js';
import { PendingWrites, SinkOperator } from './sink-operator.js';
import { id, ListCollector, failureOf, keyedStore } from './test-operators.js';

/** A reduce as a task builds it: wrapped so the current key is set from the selector. */
function reduceOperator(identity: OperatorIdentity, fn: unknown, selector: (r: never) => unknown, store: unknown): KeyedOperator {
  const keys = new KeyContext(identity.operatorName);
  return new KeyedOperator(new ReduceOperator(identity, fn, store as KeyedStore<unknown>, keys), selector as (r: unknown) => unknown, keys);
}

describe('ReduceOperator', () => {
  it('folds each record into its key and emits the running value', () => {
    const store = keyedStore<readonly [string, number]>();
    const out = new ListCollector<readonly [string, number]>();
    const op = reduceOperator(
      id('reduce-1'),
      (a: readonly [string, number], b: readonly [string, number]) => [a[0], a[1] + b[1]] as const,
      (p) => (p as readonly [string, number])[0],
      store as never,
    );
    op.setOutput(out as Collector<unknown>);
    for (const w of ['a', 'b', 'a', 'c', 'a', 'b']) op.collect([w, 1] as const);
    expect(out.records).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['c', 1],
      ['a', 3],
      ['b', 2],
    ]);
    expect(store.size()).toBe(3);
    expect(store.get('a')).toEqual(['a', 3]);
  });

  it('emits the first record of a key unchanged, without calling the function', () => {
    let calls = 0;
    const out = new ListCollector();
    const first = { v: 1 };
    const op = reduceOperator(
      id('reduce-1'),
      (a: { v: number }, b: { v: number }) => {
        calls++;
        return { v: a.v + b.v };
      },
      () => 'k',
      keyedStore() as never,
    );
    op.setOutput(out);
    op.collect(first);
    expect(calls).toBe(0);
    expect(out.records[0]).toBe(first);
    op.collect({ v: 2 });
    expect(calls).toBe(1);
    expect(out.records[1]).toEqual({ v: 3 });
  });

  it('normalises composite keys: equal tuples and objects are one key', () => {
    const store = keyedStore<{ n: number }>();
    const out = new ListCollector<{ n: number }>();
    const op = reduceOperator(
      id('reduce-1'),
      (a: { n: number; key: unknown }, b: { n: number; key: unknown }) => ({ key: a.key, n: a.n + b.n }),
      (r) => (r as { key: unknown }).key,
      store as never,
    );
    op.setOutput(out as Collector<unknown>);
    // A fresh tuple each time: compared by value, not by reference.
    for (let i = 0; i < 3; i++) op.collect({ key: ['user', 7], n: 1 });
    op.collect({ key: { b: 2, a: 1 }, n: 5 });
    op.collect({ key: { a: 1, b: 2 }, n: 5 });
    op.collect({ key: -0, n: 1 });
    op.collect({ key: 0, n: 1 });
    expect(out.records.map((r) => r.n)).toEqual([1, 2, 3, 5, 10, 1, 2]);
    expect(store.size()).toBe(3);
    expect(store.get(normalizeKey(['user', 7]))).toMatchObject({ n: 3 });
    expect(store.get(normalizeKey({ a: 1, b: 2 }))).toMatchObject({ n: 10 });
  });

  it('keeps 1 and "1" apart', () => {
    const store = keyedStore<number>();
    const op = reduceOperator(id('reduce-1'), (a: number, b: number) => a + b, (r) => (r as { k: unknown }).k, store as never);
    op.setOutput(discard);
    op.collect({ k: 1 });
    op.collect({ k: '1' });
    expect(store.size()).toBe(2);
  });

  it('wraps a throwing key selector', () => {
    const op = reduceOperator(
      id('reduce-1', 2),
      (a: number) => a,
      () => {
        throw new Error('no key');
      },
      keyedStore() as never,
    );
    const e = failureOf(() => op.collect(1));
    expect(e.operatorId).toBe('reduce-1');
    expect(e.taskIndex).toBe(2);
  });
});

describe('SinkOperator', () => {
  it('calls a synchronous sink per record and collects no promise', () => {
    const seen: unknown[] = [];
    const pending = new PendingWrites();
    const op = new SinkOperator(id('sink-1'), (x: unknown) => void seen.push(x), pending);
    [1, 2].forEach((x) => op.collect(x));
    expect(seen).toEqual([1, 2]);
    expect(pending.promises).toEqual([]);
  });

  it('collects the promises of an async sink in PendingWrites, to be awaited together', async () => {
    const done: number[] = [];
    const pending = new PendingWrites();
    const op = new SinkOperator(
      id('sink-1'),
      async (x: number) => {
        await settle();
        done.push(x);
      },
      pending,
    );
    for (let i = 0; i < 5; i++) op.collect(i);
    expect(pending.promises).toHaveLength(5);
    expect(done).toEqual([]);
    const batch = pending.take();
    expect(pending.promises).toEqual([]);
    await Promise.all(batch);
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  it('calls the sink() method of a rich function', () => {
    const pending = new PendingWrites();
    const rich = {
      seen: [] as unknown[],
      sink(x: unknown) {
        this.seen.push(x);
      },
    };
    new SinkOperator(id('sink-1'), rich, pending).collect('x');
    expect(rich.seen).toEqual(['x']);
  });

  it('turns a rejected write into a TaskFailedError of the sink, never an unhandled rejection', async () => {
    const pending = new PendingWrites();
    const cause = new Error('disk full');
    const op = new SinkOperator(
      id('sink-1', 3),
      async () => {
        await settle();
        throw cause;
      },
      pending,
    );
    op.collect(1);
    // The write rejects while nothing awaits it yet (the task is busy elsewhere) …
    await settle();
    await settle();
    // … and is still reported when the task gets to it.
    const e = await rejection(Promise.all(pending.take()));
    expect(e).toBeInstanceOf(TaskFailedError);
    expect((e as TaskFailedError).operatorId).toBe('sink-1');
    expect((e as TaskFailedError).taskIndex).toBe(3);
    expect((e as TaskFailedError).cause).toBe(cause);
  });

  it('wraps a synchronous throw', () => {
    const cause = new TypeError('bad record');
    const op = new SinkOperator(
      id('sink-1'),
      () => {
        throw cause;
      },
      new PendingWrites(),
    );
    expect(failureOf(() => op.collect(1)).cause).toBe(cause);
  });
});
