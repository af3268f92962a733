import { listState, mapState, valueState, type ListState, type ValueState } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { TaskRuntimeContext } from '../runtime-context.js';
import { KeyContext } from './key-context.js';
import { OPERATOR_STATE_NAME_PREFIX } from './operator-state.js';
import { MAX, backend, access, keyedAccess, codeOf } from './test-state-access.js';

describe('descriptors', () => {
  it('the helpers tag their kind and keep the options', () => {
    expect(valueState<number>('count', { defaultValue: 0 })).toEqual({ kind: 'value', name: 'count', defaultValue: 0 });
    expect(listState<string>('last')).toEqual({ kind: 'list', name: 'last' });
    expect(mapState<string, number>('m')).toEqual({ kind: 'map', name: 'm' });
  });
});

describe('ValueState', () => {
  it('reads undefined (or the default) until updated, then the value; clear() removes it', () => {
    const { access, at } = keyedAccess();
    const plain = access.getState(valueState<string>('name'));
    const counted = access.getState(valueState<number>('count', { defaultValue: 0 }));
    at('a');
    expect(plain.value()).toBeUndefined();
    expect(counted.value()).toBe(0);
    counted.update(counted.value()! + 1);
    plain.update('x');
    expect(counted.value()).toBe(1);
    expect(plain.value()).toBe('x');
    counted.clear();
    expect(counted.value()).toBe(0);
  });

  it('keeps null as a value', () => {
    const { access, at } = keyedAccess();
    const s = access.getState(valueState<number | null>('v', { defaultValue: 7 }));
    at('a');
    s.update(null);
    expect(s.value()).toBeNull();
  });

  it('is scoped per key: two keys interleaved see their own values', () => {
    const { access, at } = keyedAccess();
    const count = access.getState(valueState<number>('count', { defaultValue: 0 }));
    const seen: [string, number][] = [];
    for (const k of ['a', 'b', 'a', 'a', 'b', 'c']) {
      at(k);
      count.update(count.value()! + 1);
      seen.push([k, count.value()!]);
    }
    expect(seen).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('composite keys are normalised: equal tuples are one key', () => {
    const { access, at } = keyedAccess();
    const count = access.getState(valueState<number>('count', { defaultValue: 0 }));
    at(['u', 1]);
    count.update(5);
    at(['u', 1]);
    expect(count.value()).toBe(5);
    at(['u', 2]);
    expect(count.value()).toBe(0);
  });

  it('the same descriptor name gives the same handle', () => {
    const { access } = keyedAccess();
    expect(access.getState(valueState('v'))).toBe(access.getState(valueState('v')));
  });
});

describe('ListState', () => {
  it('add, addAll, get, update and clear', () => {
    const { access, at } = keyedAccess();
    const list = access.getListState(listState<number>('l'));
    at('a');
    expect(list.get()).toEqual([]);
    list.add(1);
    list.addAll([2, 3]);
    list.addAll([]);
    expect(list.get()).toEqual([1, 2, 3]);
    at('b');
    expect(list.get()).toEqual([]);
    list.addAll([9]);
    at('a');
    list.update([7, 8]);
    expect(list.get()).toEqual([7, 8]);
    list.update([]);
    expect(list.get()).toEqual([]);
    list.add(4);
    list.clear();
    expect(list.get()).toEqual([]);
    at('b');
    expect(list.get()).toEqual([9]);
  });

  it('update() copies the given array', () => {
    const { access, at } = keyedAccess();
    const list = access.getListState(listState<number>('l'));
    at('a');
    const given = [1];
    list.update(given);
    given.push(2);
    expect(list.get()).toEqual([1]);
  });
});

describe('MapState', () => {
  it('put, get, contains, remove, iteration, isEmpty and clear, per key', () => {
    const { access, at } = keyedAccess();
    const map = access.getMapState(mapState<string, number>('m'));
    at('a');
    expect(map.isEmpty()).toBe(true);
    expect(map.get('x')).toBeUndefined();
    expect([...map.entries()]).toEqual([]);
    expect([...map.keys()]).toEqual([]);
    expect([...map.values()]).toEqual([]);
    map.put('x', 1);
    map.put('y', 2);
    map.put('x', 3);
    expect(map.get('x')).toBe(3);
    expect(map.contains('y')).toBe(true);
    expect(map.contains('z')).toBe(false);
    expect([...map.entries()]).toEqual([
      ['x', 3],
      ['y', 2],
    ]);
    expect([...map.keys()]).toEqual(['x', 'y']);
    expect([...map.values()]).toEqual([3, 2]);
    at('b');
    expect(map.isEmpty()).toBe(true);
    map.put('x', 100);
    at('a');
    map.remove('y');
    map.remove('nope');
    expect([...map.keys()]).toEqual(['x']);
    map.remove('x');
    expect(map.isEmpty()).toBe(true);
    map.put('q', 1);
    map.clear();
    expect(map.isEmpty()).toBe(true);
    at('b');
    expect(map.get('x')).toBe(100);
  });
});

describe('errors', () => {
  it('keyed state on an operator that is not keyed: STATE_NOT_KEYED naming the operator and keyBy()', () => {
    const a = access(backend(), undefined);
    for (const call of [() => a.getState(valueState('v')), () => a.getListState(listState('l')), () => a.getMapState(mapState('m'))]) {
      expect(codeOf(call)).toBe('STATE_NOT_KEYED');
    }
    try {
      a.getState(valueState('v'));
    } catch (e) {
      expect((e as Error).message).toContain('operator "counter" (map-1)');
      expect((e as Error).message).toContain('keyBy()');
    }
  });

  it('through the runtime context too', () => {
    const ctx = new TaskRuntimeContext({
      jobId: 'j',
      jobName: 'j',
      operatorId: 'map-1',
      operatorName: 'counter',
      taskIndex: 0,
      parallelism: 1,
      attempt: 0,
      maxParallelism: MAX,
      jobConfig: {},
      operatorConfig: {},
      state: access(backend(), undefined),
    });
    expect(codeOf(() => ctx.getState(valueState('v')))).toBe('STATE_NOT_KEYED');
    expect(() => ctx.getOperatorState(listState('o'))).not.toThrow();
  });

  it('a handle used with no current key (outside record processing) fails clearly', () => {
    const { access } = keyedAccess();
    const v = access.getState(valueState('v'));
    expect(codeOf(() => v.value())).toBe('STATE_NO_KEY');
  });

  it('a name used for two kinds, a mismatched descriptor, a reserved or empty name', () => {
    const state = backend();
    const keys = new KeyContext();
    const a = access(state, keys, undefined, ['reduce']);
    a.getState(valueState('v'));
    expect(codeOf(() => a.getListState(listState('v')))).toBe('STATE_DESCRIPTOR_MISMATCH');
    expect(codeOf(() => a.getListState(valueState('w') as never))).toBe('STATE_DESCRIPTOR_MISMATCH');
    expect(codeOf(() => a.getState(valueState('reduce')))).toBe('STATE_INVALID_NAME');
    expect(codeOf(() => a.getState(valueState('')))).toBe('STATE_INVALID_NAME');
    expect(codeOf(() => a.getState(valueState(`${OPERATOR_STATE_NAME_PREFIX}x`)))).toBe('STATE_INVALID_NAME');
  });
});
