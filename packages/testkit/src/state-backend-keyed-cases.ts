// The keyed-store cases of describeStateBackend: reads, writes, named states and key types.
import { type StateKey } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { type StateBackendSuiteContext } from './state-backend-suite-context.js';

export function describeKeyedStoreCases(ctx: StateBackendSuiteContext): void {
  const { task, timeout, manyKeys, ALL } = ctx;
  describe('keyed stores', () => {
    it('get / put / delete / size', { timeout }, async () => {
      const store = (await task(0, ALL)).keyed<number>('a');
      expect(store.get('missing')).toBeUndefined();
      expect(store.size()).toBe(0);
      store.put('k', 1);
      store.put(2, 2);
      expect(store.get('k')).toBe(1);
      expect(store.get(2)).toBe(2);
      expect(store.size()).toBe(2);
      store.put('k', 3); // update: same size
      expect(store.get('k')).toBe(3);
      expect(store.size()).toBe(2);
      store.delete('k');
      expect(store.get('k')).toBeUndefined();
      expect(store.size()).toBe(1);
      store.delete('k'); // deleting a missing key is harmless
      store.delete('never');
      expect(store.size()).toBe(1);
      store.put('k', 4); // a deleted key can come back
      expect(store.get('k')).toBe(4);
      expect(store.size()).toBe(2);
      store.put('zero', 0); // falsy values are values
      expect(store.get('zero')).toBe(0);
      expect(store.size()).toBe(3);
    });

    it('keyed(name) twice gives the same state', { timeout }, async () => {
      const state = await task(0, ALL);
      state.keyed<string>('s').put('k', 'v');
      expect(state.keyed<string>('s').get('k')).toBe('v');
      expect(state.keyed<string>('s').size()).toBe(1);
    });

    it('named states are independent', { timeout }, async () => {
      const state = await task(0, ALL);
      const a = state.keyed<number>('a');
      const b = state.keyed<number>('b');
      const c = state.keyed<number>('count/words'); // names with separators do not clash
      a.put('k', 1);
      b.put('k', 2);
      b.put('j', 3);
      expect(a.get('k')).toBe(1);
      expect(b.get('k')).toBe(2);
      expect(a.get('j')).toBeUndefined();
      expect(c.get('k')).toBeUndefined();
      expect([a.size(), b.size(), c.size()]).toEqual([1, 2, 0]);
      b.delete('k');
      expect(a.get('k')).toBe(1);
      expect([a.size(), b.size()]).toEqual([1, 1]);
    });

    it('keys of different types are distinct (1, "1", true, "true", 0, "0", false, "false")', { timeout }, async () => {
      const store = (await task(0, ALL)).keyed<string>('s');
      const keys: StateKey[] = [1, '1', true, 'true', 0, '0', false, 'false', '', -1, 1.5];
      for (const k of keys) store.put(k, `${typeof k}:${String(k)}`);
      expect(store.size()).toBe(keys.length);
      for (const k of keys) expect(store.get(k), `${typeof k} ${String(k)}`).toBe(`${typeof k}:${String(k)}`);
      store.delete(1);
      expect(store.get('1')).toBe('string:1');
      expect(store.get(true)).toBe('boolean:true');
      expect(store.size()).toBe(keys.length - 1);
    });

    it(`holds ${manyKeys} keys and reads every one back`, { timeout }, async () => {
      const store = (await task(0, ALL)).keyed<{ i: number; s: string }>('many');
      for (let i = 0; i < manyKeys; i++) store.put(`key-${i}`, { i, s: `v${i}` });
      for (let i = 0; i < manyKeys; i += 2) store.delete(`key-${i}`);
      expect(store.size()).toBe(Math.floor(manyKeys / 2));
      for (let i = 0; i < manyKeys; i++) {
        const v = store.get(`key-${i}`);
        if (i % 2 === 0) expect(v).toBeUndefined();
        else expect(v).toEqual({ i, s: `v${i}` });
      }
    });
  });
}
