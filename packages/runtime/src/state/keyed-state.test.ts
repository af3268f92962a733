import {
  listState,
  mapState,
  silentLogger,
  valueState,
  type CheckpointListener,
  type ListState,
  type LogicalGraph,
  type RuntimeContext,
  type TaskSnapshot,
  type ValueState,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { KeyedOperator } from '../operators/keyed-operator.js';
import { MapOperator } from '../operators/map-operator.js';
import { TaskRuntimeContext } from '../runtime-context.js';
import { Task } from '../task.js';
import { deferred, TestTransport } from '../test-channels.js';
import { collection, edge, graph, node } from '../test-graph.js';
import { KeyContext } from './key-context.js';
import { OPERATOR_STATE_NAME_PREFIX, operatorStateKey } from './operator-state.js';
import { MAX, backend, access, keyedAccess } from './test-state-access.js';

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
