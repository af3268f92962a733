import {
  MobiusError,
  listState,
  mapState,
  silentLogger,
  valueState,
  type CheckpointListener,
  type ListState,
  type LogicalGraph,
  type RuntimeContext,
  type TaskSnapshot,
  type TaskStateBackend,
  type ValueState,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { normalizeKey } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { KeyedOperator } from '../operators/keyed-operator.js';
import { MapOperator } from '../operators/map-operator.js';
import { TaskRuntimeContext } from '../runtime-context.js';
import { Task } from '../task.js';
import { deferred, TestTransport } from '../test-channels.js';
import { collection, edge, graph, node } from '../test-graph.js';
import { KeyContext } from './key-context.js';
import { OPERATOR_STATE_NAME_PREFIX, operatorStateKey, stateKeyGroupOf } from './operator-state.js';
import { StateAccess } from './state-access.js';

const MAX = 128;

function backend(keyGroups = { start: 0, end: MAX - 1 }, taskIndex = 0): TaskStateBackend {
  return new MemoryStateBackend().create({
    jobId: 'job-1',
    operatorId: 'map-1',
    taskIndex,
    maxParallelism: MAX,
    keyGroups,
    keyGroupOf: stateKeyGroupOf(MAX),
  });
}

function access(state: TaskStateBackend, keys: KeyContext | undefined, keyGroups = { start: 0, end: MAX - 1 }, reserved: string[] = []): StateAccess {
  return new StateAccess({ operatorId: 'map-1', operatorName: 'counter', keys, keyGroups, backend: () => state, reserved });
}

function keyedAccess(state = backend()) {
  const keys = new KeyContext('counter');
  return { keys, access: access(state, keys), state, at: (k: unknown) => (keys.currentKey = normalizeKey(k)) };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MobiusError);
    return (e as MobiusError).code;
  }
  return undefined;
}

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

describe('keyed operators set the current key', () => {
  it('a keyed map counts per key through ValueState', async () => {
    const keys = new KeyContext('counter');
    const state = backend();
    const fn = {
      count: undefined as unknown as import('@mobius/interface').ValueState<number>,
      open(ctx: import('@mobius/interface').RuntimeContext) {
        this.count = ctx.getState(valueState<number>('count', { defaultValue: 0 }));
      },
      map(w: string) {
        const n = this.count.value()! + 1;
        this.count.update(n);
        return [w, n];
      },
    };
    const op = new KeyedOperator(new MapOperator({ operatorId: 'map-1', operatorName: 'counter', taskIndex: 0 }, fn), (w) => w, keys);
    const out: unknown[] = [];
    op.setOutput({ collect: (r) => void out.push(r) });
    await op.open(
      new TaskRuntimeContext({
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
        state: access(state, op.keys),
      }),
    );
    for (const w of ['a', 'b', 'a']) op.collect(w);
    expect(out).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ]);
  });
});

describe('operator state', () => {
  it('is one list per task, usable without a key', () => {
    const state = backend();
    const a = access(state, undefined);
    const offsets = a.getOperatorState(listState<number>('offsets'));
    offsets.add(1);
    offsets.addAll([2, 3]);
    expect(offsets.get()).toEqual([1, 2, 3]);
    // Stored apart from keyed state of the same name.
    const keys = new KeyContext();
    keys.currentKey = 'k';
    const keyed = access(state, keys).getListState(listState<number>('offsets'));
    expect(keyed.get()).toEqual([]);
  });

  it('after a rescale, the lists of old tasks merge into the new task owning their key groups', async () => {
    const old0 = backend({ start: 0, end: 63 }, 0);
    const old1 = backend({ start: 64, end: 127 }, 1);
    access(old0, undefined, { start: 0, end: 63 }).getOperatorState(listState<string>('o')).add('from-0');
    access(old1, undefined, { start: 64, end: 127 }).getOperatorState(listState<string>('o')).add('from-1');
    const snaps = [await old0.snapshot(1), await old1.snapshot(1)];
    expect(snaps[1].groups.has(64)).toBe(true);
    const merged = backend({ start: 0, end: 127 }, 0);
    await merged.restore(snaps);
    const list = access(merged, undefined).getOperatorState(listState<string>('o'));
    expect([...list.get()].sort()).toEqual(['from-0', 'from-1']);
    expect(merged.keyed(`${OPERATOR_STATE_NAME_PREFIX}o`).get(operatorStateKey(64))).toBeUndefined();
  });
});

describe('snapshot and restore through MemoryStateBackend', () => {
  it('keeps value, list, map and operator state; each task keeps only its own', async () => {
    const { access: a, at, state } = keyedAccess();
    const v = a.getState(valueState<number>('v', { defaultValue: 0 }));
    const l = a.getListState(listState<string>('l'));
    const m = a.getMapState(mapState<string, number>('m'));
    const o = a.getOperatorState(listState<number>('o'));
    for (const k of ['a', 'b', ['c', 1]]) {
      at(k);
      v.update(JSON.stringify(k).length);
      l.addAll([`${JSON.stringify(k)}1`, `${JSON.stringify(k)}2`]);
      m.put('x', 1);
      m.put('y', 2);
    }
    o.addAll([10, 20]);
    const snap = await state.snapshot(7);

    const restored = backend();
    await restored.restore([snap]);
    const { access: b, at: atB } = keyedAccess(restored);
    const v2 = b.getState(valueState<number>('v', { defaultValue: 0 }));
    const l2 = b.getListState(listState<string>('l'));
    const m2 = b.getMapState(mapState<string, number>('m'));
    for (const k of ['a', 'b', ['c', 1]]) {
      atB(k);
      expect(v2.value()).toBe(JSON.stringify(k).length);
      expect(l2.get()).toEqual([`${JSON.stringify(k)}1`, `${JSON.stringify(k)}2`]);
      expect(m2.get('y')).toBe(2);
      expect([...m2.entries()]).toEqual([
        ['x', 1],
        ['y', 2],
      ]);
    }
    atB('zzz');
    expect(v2.value()).toBe(0);
    expect(b.getOperatorState(listState<number>('o')).get()).toEqual([10, 20]);

    // Two tasks of half the key groups each: each keeps the keys (and the operator state) it owns.
    const low = backend({ start: 0, end: 63 });
    const high = backend({ start: 64, end: 127 }, 1);
    await low.restore([snap]);
    await high.restore([snap]);
    const total = low.keyed('v').size() + high.keyed('v').size();
    expect(total).toBe(3);
    expect(access(low, undefined, { start: 0, end: 63 }).getOperatorState(listState<number>('o')).get()).toEqual([10, 20]);
    expect(access(high, undefined, { start: 64, end: 127 }).getOperatorState(listState<number>('o')).get()).toEqual([]);
  });
});

/** src (0..n) → keyBy(x % 10) → count per key in ValueState (p=2) → sink counting its records in operator state. */
function countingJob(n: number, report: (total: number, k: number, count: number, self: { total: ListState<number> }) => void): LogicalGraph {
  const counter = {
    count: undefined as unknown as ValueState<number>,
    open(ctx: RuntimeContext) {
      this.count = ctx.getState(valueState<number>('count', { defaultValue: 0 }));
    },
    map(x: number) {
      const c = this.count.value()! + 1;
      this.count.update(c);
      return [x % 10, c];
    },
  };
  const sink = {
    total: undefined as unknown as ListState<number>,
    open(ctx: RuntimeContext) {
      this.total = ctx.getOperatorState(listState<number>('total'));
    },
    sink(v: [number, number]) {
      const t = (this.total.get()[0] ?? 0) + 1;
      this.total.update([t]);
      report(t, v[0], v[1], this);
    },
  };
  return graph(
    [
      collection('src', Array.from({ length: n }, (_, i) => i), { parallelism: 1 }),
      node('count', 'map', { parallelism: 2, fn: counter }),
      node('out', 'sink', { parallelism: 1, fn: sink }),
    ],
    [edge('src', 'count', 'key', { keySelector: (x: number) => x % 10 }), edge('count', 'out', 'rebalance')],
    { 'runtime.batch.size': 16, 'runtime.channel.credits': 2 },
  );
}

function startJob(g: LogicalGraph, listener: CheckpointListener | undefined, restore?: readonly TaskSnapshot[], attempt = 0) {
  const plan = createPlan(g, 'keyed-state');
  const transport = new TestTransport();
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger, checkpoints: listener };
  const tasks = plan.tasks.map((t) => new Task({ jobId: `job-${attempt}`, plan, graph: g, taskId: t.id, attempt, restore }, services));
  return { tasks, done: Promise.all(tasks.map((t) => t.run())) };
}

describe('keyed and operator state in tasks, through a checkpoint and a restore', () => {
  it('a keyed map counts per key and a sink counts its records; a restored job ends with the same counts', async () => {
    const n = 10_000;
    const snapshots: TaskSnapshot[] = [];
    const acked = deferred<void>();
    let taskCount = 0;
    const listener: CheckpointListener = {
      acknowledge(s) {
        snapshots.push(s);
        if (snapshots.length === taskCount) acked.resolve();
      },
      decline: (taskId, id, reason) => acked.reject(new Error(`${taskId} declined ${id}: ${reason}`)),
    };
    let job: ReturnType<typeof startJob> | undefined = undefined;
    const first = new Map<number, number>();
    let firstTotal = 0;
    job = startJob(
      countingJob(n, (total, k, c) => {
        firstTotal = total;
        first.set(k, Math.max(first.get(k) ?? 0, c));
        if (total === 1000) for (const t of job!.tasks) if (t.vertex.operatorIds[0] === 'src') t.triggerCheckpoint(3, Date.now());
      }),
      listener,
    );
    taskCount = job.tasks.length;
    await job.done;
    await acked.promise;
    expect(firstTotal).toBe(n);
    expect([...first.values()]).toEqual(Array(10).fill(n / 10));
    expect(snapshots.filter((s) => s.taskId.startsWith('count')).every((s) => s.operators.count !== undefined)).toBe(true);
    expect(snapshots.find((s) => s.taskId.startsWith('out'))?.operators.out).toBeDefined();

    const last = new Map<number, number>();
    let restoredTotal = 0;
    let restoredFirst: number | undefined;
    const restored = startJob(
      countingJob(n, (total, k, c) => {
        restoredFirst ??= total;
        restoredTotal = total;
        last.set(k, Math.max(last.get(k) ?? 0, c));
      }),
      undefined,
      snapshots,
      1,
    );
    await restored.done;
    // The sink's operator state resumed from the checkpoint, the keyed counts too.
    expect(restoredFirst).toBeGreaterThan(1);
    expect(restoredTotal).toBe(n);
    expect([...last.values()]).toEqual(Array(10).fill(n / 10));
  });
});
