import { ConfigError, PlanError, type LogicalGraph } from '@mobius/interface';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DataStream } from './data-stream.js';
import { StreamingContext } from './streaming-context.js';

const ctx = (): StreamingContext => StreamingContext.builder().build();
const nodeNamed = (g: LogicalGraph, name: string) => g.nodes.find((n) => n.name === name)!;

describe('async functions in the DataStream API', () => {
  it('map, flatMap and filter over async functions type their streams by the awaited values', () => {
    const c = ctx();
    const words = c.fromValues('a', 'bb');
    const lengths = words.map(async (w) => w.length);
    expectTypeOf(lengths).toEqualTypeOf<DataStream<number>>();
    const pairs = words.map((w): Promise<[string, number]> => Promise.resolve([w, 1]));
    expectTypeOf(pairs).toEqualTypeOf<DataStream<[string, number]>>();
    expectTypeOf(words.map((w) => w.toUpperCase())).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(words.flatMap(async (w) => w.split(''))).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(words.filter(async (w) => w.length > 1)).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(words.asyncMap(async (w) => ({ w }))).toEqualTypeOf<DataStream<{ w: string }>>();
    expectTypeOf(words.keyBy((w) => w).asyncMap(async (w) => w.length)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(words.map({ map: async (w: string) => w.length })).toEqualTypeOf<DataStream<number>>();
    words.sink(async () => undefined);
  });

  it('asyncMap adds a map node named asyncMap whose options are runtime.async.* keys, validated at plan time', () => {
    const c = ctx();
    c.fromValues(1, 2)
      .asyncMap(async (x) => x * 2, { ordered: false, capacity: 8, timeoutMs: 500 })
      .keyBy((x) => x % 2)
      .asyncMap(async (x) => x + 1)
      .sink(() => undefined);
    const g = c.graph();
    const first = g.nodes.filter((n) => n.name === 'asyncMap');
    expect(first.map((n) => n.kind)).toEqual(['map', 'map']);
    expect(first[0].config).toEqual({ 'runtime.async.ordered': false, 'runtime.async.capacity': 8, 'runtime.async.timeout.ms': 500 });
    expect(first[1].config).toEqual({});
    expect(() => c.plan()).not.toThrow();
  });

  it('rejects bad asyncMap options at once, naming the option', () => {
    const s = ctx().fromValues(1);
    const e = (() => {
      try {
        s.asyncMap(async (x) => x, { capacity: 0 });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PlanError);
    expect((e as PlanError).message).toMatch(/asyncMap\(\): capacity must be an integer of at least 1, got 0/);
    expect(() => s.asyncMap(async (x) => x, { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => s.asyncMap(42 as never)).toThrow(PlanError);
  });

  it('a bad runtime.async key set by hand is a ConfigError naming the key when the job is planned', () => {
    const c = ctx();
    c.fromValues(1).map(async (x) => x).withConfig('runtime.async.capacity', 0).sink(() => undefined);
    expect(() => c.plan()).toThrow(ConfigError);
    expect(() => c.plan()).toThrow(/runtime\.async\.capacity/);
    expect(nodeNamed(c.graph(), 'map').config['runtime.async.capacity']).toBe(0);
  });
});
