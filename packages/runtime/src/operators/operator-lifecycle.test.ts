import { TaskFailedError, type RuntimeContext } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { rejection, settle } from '../test-channels.js';
import { FilterOperator } from './filter-operator.js';
import { FlatMapOperator } from './flat-map-operator.js';
import { MapOperator } from './map-operator.js';
import { callable, instantiate, operatorFailure } from './operator.js';
import { PendingWrites, SinkOperator } from './sink-operator.js';
import { id, ListCollector, ctxFor, failureOf } from './test-operators.js';

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
