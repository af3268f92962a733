import { type Collector } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { FilterOperator } from './filter-operator.js';
import { FlatMapOperator } from './flat-map-operator.js';
import { MapOperator } from './map-operator.js';
import { FanOut, discard } from './operator.js';
import { SourceOperator } from './source-operator.js';
import { UnionOperator } from './union-operator.js';
import { id, ListCollector } from './test-operators.js';

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
