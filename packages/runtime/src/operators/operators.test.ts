import { TaskFailedError, keyGroupOf, normalizeKey, type Collector, type KeyedStore, type RuntimeContext } from '@mobius/interface';
import { KeyContext } from '../state/key-context.js';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { TaskRuntimeContext } from '../runtime-context.js';
import { rejection, settle, thrown } from '../test-channels.js';
import { FilterOperator } from './filter-operator.js';
import { FlatMapOperator } from './flat-map-operator.js';
import { MapOperator } from './map-operator.js';
import { FanOut, callable, discard, instantiate, operatorFailure, type OperatorIdentity } from './operator.js';
import { KeyedOperator } from './keyed-operator.js';
import { ReduceOperator } from './reduce-operator.js';
import { PendingWrites, SinkOperator } from './sink-operator.js';
import { SourceOperator } from './source-operator.js';
import { UnionOperator } from './union-operator.js';

const id = (operatorId: string, taskIndex = 0): OperatorIdentity => ({ operatorId, operatorName: `${operatorId}-name`, taskIndex });

class ListCollector<T = unknown> implements Collector<T> {
  readonly records: T[] = [];
  collect(record: T): void {
    this.records.push(record);
  }
}

function ctxFor(identity: OperatorIdentity): RuntimeContext {
  return new TaskRuntimeContext({
    jobId: 'job-1',
    jobName: 'job',
    operatorId: identity.operatorId,
    operatorName: identity.operatorName,
    taskIndex: identity.taskIndex,
    parallelism: 4,
    attempt: 0,
    maxParallelism: 128,
    jobConfig: { 'runtime.batch.size': 16 },
    operatorConfig: { 'runtime.batch.size': 8 },
  });
}

function failureOf(fn: () => unknown): TaskFailedError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(TaskFailedError);
  return e as TaskFailedError;
}

function keyedStore<V>(name = 'reduce') {
  const state = new MemoryStateBackend().create({
    jobId: 'job-1',
    operatorId: 'reduce-1',
    taskIndex: 0,
    maxParallelism: 128,
    keyGroups: { start: 0, end: 127 },
    keyGroupOf: (k) => keyGroupOf(k, 128),
  });
  return state.keyed<V>(name);
}

describe('MapOperator', () => {
  it('emits the function value of each record', () => {
    const out = new ListCollector();
    const op = new MapOperator(id('map-1'), (x: number) => x * 10);
    op.out = out;
    [1, 2, 3].forEach((x) => op.collect(x));
    expect(out.records).toEqual([10, 20, 30]);
  });

  it('calls the map() method of a rich function with `this` bound', () => {
    const out = new ListCollector();
    const rich = {
      factor: 3,
      map(x: number) {
        return x * this.factor;
      },
    };
    const op = new MapOperator(id('map-1'), rich);
    op.out = out;
    op.collect(2);
    expect(out.records).toEqual([6]);
  });

  it('emits undefined and null results as records', () => {
    const out = new ListCollector();
    const op = new MapOperator(id('map-1'), () => null);
    op.out = out;
    op.collect(1);
    expect(out.records).toEqual([null]);
  });
});

describe('FlatMapOperator', () => {
  function run(fn: unknown, input: unknown[]): unknown[] {
    const out = new ListCollector();
    const op = new FlatMapOperator(id('flatMap-1'), fn);
    op.out = out;
    input.forEach((r) => op.collect(r));
    return out.records;
  }

  it('emits the elements of a returned array', () => {
    expect(run((line: string) => line.split(' '), ['a b', '', 'c'])).toEqual(['a', 'b', '', 'c']);
  });

  it('emits what a generator yields', () => {
    expect(
      run(function* (n: number) {
        for (let i = 0; i < n; i++) yield `${n}:${i}`;
      }, [2, 0, 1]),
    ).toEqual(['2:0', '2:1', '1:0']);
  });

  it('emits any iterable (a Set, a string)', () => {
    expect(run((x: string) => new Set([x, x.toUpperCase()]), ['a'])).toEqual(['a', 'A']);
    expect(run((x: string) => x, ['hey'])).toEqual(['h', 'e', 'y']);
  });

  it('lets the function emit through the collector and return nothing', () => {
    expect(
      run((x: number, out: Collector<number>) => {
        out.collect(x);
        out.collect(-x);
      }, [1, 2]),
    ).toEqual([1, -1, 2, -2]);
  });

  it('emits nothing for a null or undefined return', () => {
    expect(run(() => null, [1, 2])).toEqual([]);
    expect(run(() => undefined, [1, 2])).toEqual([]);
  });

  it('calls the flatMap() method of a rich function', () => {
    const rich = {
      sep: ',',
      flatMap(s: string) {
        return s.split(this.sep);
      },
    };
    expect(run(rich, ['a,b'])).toEqual(['a', 'b']);
  });
});

describe('FilterOperator', () => {
  it('passes the records for which the function is truthy', () => {
    const out = new ListCollector();
    const op = new FilterOperator(id('filter-1'), (x: number) => x % 2 === 0);
    op.out = out;
    for (let i = 0; i < 7; i++) op.collect(i);
    expect(out.records).toEqual([0, 2, 4, 6]);
  });

  it('calls the filter() method of a rich function', () => {
    const out = new ListCollector();
    const rich = {
      banned: 'ray',
      filter(s: string) {
        return !s.includes(this.banned);
      },
    };
    const op = new FilterOperator(id('filter-1'), rich);
    op.out = out;
    ['ray', 'mobius', 'stray'].forEach((s) => op.collect(s));
    expect(out.records).toEqual(['mobius']);
  });
});

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

describe('Union, Source, FanOut and discard', () => {
  it('union and source operators pass records through', () => {
    const out = new ListCollector();
    const union = new UnionOperator(id('union-1'));
    const source = new SourceOperator(id('source-0'), { fetch: () => undefined });
    union.out = out;
    source.out = union;
    source.collect('a');
    union.collect('b');
    expect(out.records).toEqual(['a', 'b']);
  });

  it('FanOut sends each record to every output in order; discard drops it', () => {
    const a = new ListCollector();
    const b = new ListCollector();
    const fan = new FanOut([a, discard, b]);
    fan.collect(1);
    fan.collect(2);
    expect(a.records).toEqual([1, 2]);
    expect(b.records).toEqual([1, 2]);
  });
});

describe('failure attribution', () => {
  it('a throwing function gives a TaskFailedError naming operator name, id and task index, with the original error as cause', () => {
    const cause = new RangeError('boom');
    const op = new MapOperator(id('map-7', 5), () => {
      throw cause;
    });
    const e = failureOf(() => op.collect(1));
    expect(e.code).toBe('TASK_FAILED');
    expect(e.operatorId).toBe('map-7');
    expect(e.operatorName).toBe('map-7-name');
    expect(e.taskIndex).toBe(5);
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('"map-7-name" (map-7) task #5');
    expect(e.message).toContain('RangeError: boom');
  });

  it('wraps non-Error throws too', () => {
    const op = new FilterOperator(id('filter-1'), () => {
      throw 'just a string';
    });
    const e = failureOf(() => op.collect(1));
    expect(e.cause).toBe('just a string');
    expect(e.message).toContain('just a string');
  });

  it('an error already wrapped downstream passes through the upstream operators unchanged', () => {
    const cause = new Error('sink broke');
    const sink = new SinkOperator(
      id('sink-3', 1),
      () => {
        throw cause;
      },
      new PendingWrites(),
    );
    const filter = new FilterOperator(id('filter-2', 1), () => true);
    const flatMap = new FlatMapOperator(id('flatMap-1', 1), (x: number) => [x, x]);
    const map = new MapOperator(id('map-0', 1), (x: number) => x + 1);
    map.out = flatMap;
    flatMap.out = filter;
    filter.out = sink;
    let original: unknown;
    try {
      sink.collect(0);
    } catch (e) {
      original = e;
    }
    const e = failureOf(() => map.collect(1));
    expect(e.operatorId).toBe('sink-3');
    expect(e.cause).toBe(cause);
    expect(e).not.toBe(original); // a new failure per record, but the same attribution
    expect(e.message).toBe((original as Error).message);
  });

  it('operatorFailure keeps an existing TaskFailedError as it is', () => {
    const inner = new TaskFailedError('x', 'x', 0, new Error('e'));
    expect(operatorFailure(id('y'), inner)).toBe(inner);
    const wrapped = operatorFailure(id('y'), new Error('e'));
    expect(wrapped.operatorId).toBe('y');
  });
});

describe('rich functions: open() and close()', () => {
  it('calls open(ctx) with the runtime context and close() once', async () => {
    const calls: string[] = [];
    let seen: RuntimeContext | undefined;
    const rich = {
      open(ctx: RuntimeContext) {
        seen = ctx;
        calls.push('open');
      },
      map(x: number) {
        return x;
      },
      async close() {
        await settle();
        calls.push('close');
      },
    };
    const identity = id('map-1', 2);
    const op = new MapOperator(identity, rich);
    const ctx = ctxFor(identity);
    await op.open(ctx);
    await op.close();
    expect(calls).toEqual(['open', 'close']);
    expect(seen).toBe(ctx);
    expect(seen!.taskIndex).toBe(2);
    expect(seen!.getConfig('runtime.batch.size')).toBe(8); // operator value over job value
    expect(seen!.getConfig('runtime.linger.ms')).toBe(5); // the declared default
    expect(seen!.getConfig('no.such.key')).toBeUndefined();
  });

  it('a plain function has no open/close: they resolve', async () => {
    const op = new MapOperator(id('map-1'), (x: number) => x);
    await expect(op.open(ctxFor(id('map-1')))).resolves.toBeUndefined();
    await expect(op.close()).resolves.toBeUndefined();
  });

  it('wraps errors of open() and close() as TaskFailedError of the operator', async () => {
    const openError = new Error('cannot connect');
    const closeError = new Error('cannot flush');
    const identity = id('sink-9', 1);
    const op = new SinkOperator(
      identity,
      {
        async open() {
          throw openError;
        },
        sink() {},
        close() {
          throw closeError;
        },
      },
      new PendingWrites(),
    );
    const e1 = await rejection(op.open(ctxFor(identity)));
    expect(e1).toBeInstanceOf(TaskFailedError);
    expect((e1 as TaskFailedError).operatorId).toBe('sink-9');
    expect((e1 as TaskFailedError).taskIndex).toBe(1);
    expect((e1 as TaskFailedError).cause).toBe(openError);
    const e2 = await rejection(op.close());
    expect((e2 as TaskFailedError).cause).toBe(closeError);
  });
});

describe('instantiate() and callable()', () => {
  class Counter {
    count = 0;
    readonly seen: number[] = [];
    map(x: number): number {
      this.count++;
      return x + this.count;
    }
  }

  it('copies a rich object per task: own fields separate, prototype shared', () => {
    const original = new Counter();
    const a = instantiate<Counter>(original);
    const b = instantiate<Counter>(original);
    expect(a).not.toBe(original);
    expect(a).not.toBe(b);
    expect(Object.getPrototypeOf(a)).toBe(Counter.prototype);
    expect(Object.getPrototypeOf(b)).toBe(Counter.prototype);
    expect(a).toBeInstanceOf(Counter);
    expect(a.map).toBe(original.map); // methods are shared through the prototype

    const opA = new MapOperator(id('map-1', 0), a);
    const opB = new MapOperator(id('map-1', 1), b);
    const outA = new ListCollector();
    const outB = new ListCollector();
    opA.out = outA;
    opB.out = outB;
    opA.collect(10);
    opA.collect(10);
    opB.collect(10);
    expect(outA.records).toEqual([11, 12]);
    expect(outB.records).toEqual([11]);
    expect(a.count).toBe(2);
    expect(b.count).toBe(1);
    expect(original.count).toBe(0);
  });

  it('the copy is shallow: a field holding an object is shared', () => {
    const original = new Counter();
    const a = instantiate<Counter>(original);
    expect(a.seen).toBe(original.seen);
  });

  it('copies getters, symbols and non-enumerable fields as descriptors', () => {
    const sym = Symbol('s');
    const original = { x: 1, [sym]: 2, get double() {
      return this.x * 2;
    } };
    Object.defineProperty(original, 'hidden', { value: 3, enumerable: false });
    const copy = instantiate<typeof original & { hidden: number }>(original);
    copy.x = 5;
    expect(copy.double).toBe(10);
    expect(original.double).toBe(2);
    expect(copy[sym]).toBe(2);
    expect(copy.hidden).toBe(3);
  });

  it('returns plain functions as they are', () => {
    const fn = (x: number): number => x;
    expect(instantiate(fn)).toBe(fn);
    expect(instantiate(undefined)).toBeUndefined();
  });

  it('callable() returns a function as is, and binds a method to its object', () => {
    const fn = (x: number): number => x;
    expect(callable(fn, 'map')).toBe(fn);
    const obj = {
      k: 2,
      map(x: number) {
        return x * this.k;
      },
    };
    const m = callable<(x: number) => number>(obj, 'map');
    expect(m(4)).toBe(8);
  });
});
