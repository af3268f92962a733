import { PlanError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { extremeByReducer, extremeReducer, sumReducer } from './keyed-aggregations.js';
import { StreamingContext } from './streaming-context.js';

type Row = { k: string; n: number; tag: string };
const rows: Row[] = [
  { k: 'a', n: 5, tag: 'first' },
  { k: 'a', n: 2, tag: 'second' },
  { k: 'a', n: 9, tag: 'third' },
  { k: 'a', n: 2, tag: 'fourth' },
  { k: 'a', n: 9, tag: 'fifth' },
];
/** Folds as reduce does, returning every running value. */
const running = <T>(fn: (a: T, b: T) => T, xs: T[]): T[] => xs.slice(1).reduce((acc, x) => [...acc, fn(acc[acc.length - 1], x)], [xs[0]]);

describe('keyed aggregations (reduce functions)', () => {
  it('sum adds the field and keeps the first record’s other fields, for properties and tuple indexes', () => {
    expect(running(sumReducer<Row>('n'), rows).map((r) => [r.n, r.tag])).toEqual([
      [5, 'first'],
      [7, 'first'],
      [16, 'first'],
      [18, 'first'],
      [27, 'first'],
    ]);
    const tuples: [string, number][] = [
      ['x', 1],
      ['y', 2],
    ];
    expect(running(sumReducer<[string, number]>(1), tuples).at(-1)).toEqual(['x', 3]);
    expect(tuples[0]).toEqual(['x', 1]); // inputs are not changed
  });

  it('min/max keep the first record with the extreme value in the field; minBy/maxBy keep the whole record, the first on ties', () => {
    expect(running(extremeReducer<Row>('n', false), rows).map((r) => `${r.n}:${r.tag}`)).toEqual(['5:first', '2:first', '2:first', '2:first', '2:first']);
    expect(running(extremeReducer<Row>('n', true), rows).map((r) => `${r.n}:${r.tag}`)).toEqual(['5:first', '5:first', '9:first', '9:first', '9:first']);
    expect(running(extremeByReducer<Row>('n', false), rows).map((r) => r.tag)).toEqual(['first', 'second', 'second', 'second', 'second']);
    expect(running(extremeByReducer<Row>('n', true), rows).map((r) => r.tag)).toEqual(['first', 'first', 'third', 'third', 'third']);
  });

  it('sum of a field that is not a number fails with a message naming the field', () => {
    expect(() => sumReducer<Row>('tag')(rows[0], rows[1])).toThrow(/sum\("tag"\): the field is not a number/);
  });

  it('a bad field is a PlanError at the call', () => {
    const keyed = StreamingContext.builder().build().fromValues<Row>().keyBy((r) => r.k);
    expect(() => keyed.sum(-1)).toThrow(PlanError);
    expect(() => keyed.maxBy('' as never)).toThrow(/maxBy\(\) takes a field/);
    expect(keyed.minBy('n').name('x')).toBeDefined();
  });
});
