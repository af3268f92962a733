import { ProcessError, mapState, type Collector, type KeyedProcessContext, type OnTimerContext } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../operators/test-operators.js';
import { ProcessOperator } from './process-operator.js';
import { harness, id } from './test-process.js';

type Ev = { key: string; v: number };
const byKey = (r: unknown): unknown => (r as Ev).key;

describe('ProcessOperator (keyed)', () => {
  it('event-time timers fire in time order when the watermark passes them; output carries the timer time; equal timers fire once; deletes hold', () => {
    const fired: [string, number, string, number | undefined][] = [];
    const fn = {
      processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
        const ts = ctx.timestamp()!;
        ctx.timerService().registerEventTimeTimer(ts + 10);
        ctx.timerService().registerEventTimeTimer(ts + 10); // dedup
        if (e.v < 0) ctx.timerService().deleteEventTimeTimer(ts + 10);
        out.collect(`in ${e.key}`);
      },
      onTimer(t: number, ctx: OnTimerContext<string>, out: Collector<string>) {
        fired.push([ctx.getCurrentKey(), t, ctx.timeDomain(), ctx.timestamp()]);
        out.collect(`timer ${ctx.getCurrentKey()}@${t}`);
      },
    };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'), byKey);
    h.push({ key: 'b', v: 1 }, 30);
    h.push({ key: 'a', v: 1 }, 5);
    h.push({ key: 'c', v: -1 }, 7); // deleted
    h.push({ key: 'a', v: 2 }, 20);
    expect(h.timers!.size).toBe(3);
    h.watermark(14);
    expect(fired).toEqual([]);
    h.watermark(15);
    expect(fired).toEqual([['a', 15, 'event', 15]]);
    h.watermark(Infinity);
    expect(fired.map((f) => f[1])).toEqual([15, 30, 40]);
    expect(fired.map((f) => f[0])).toEqual(['a', 'a', 'b']);
    // records from processElement keep the input's timestamp, from an event-time timer the timer's time
    expect(h.out.slice(0, 4)).toEqual([
      ['in b', 30],
      ['in a', 5],
      ['in c', 7],
      ['in a', 20],
    ]);
    expect(h.out.slice(4)).toEqual([
      ['timer a@15', 15],
      ['timer a@30', 30],
      ['timer b@40', 40],
    ]);
    expect(h.timers!.size).toBe(0);
  });

  it('processing-time timers fire when the clock reaches them, without a timestamp; deletes hold', () => {
    const fn = {
      processElement(e: Ev, ctx: KeyedProcessContext<string>) {
        ctx.timerService().registerProcessingTimeTimer(100 + e.v);
        if (e.v === 2) ctx.timerService().deleteProcessingTimeTimer(102);
      },
      onTimer(t: number, ctx: OnTimerContext<string>, out: Collector<unknown>) {
        out.collect([ctx.getCurrentKey(), t, ctx.timeDomain(), ctx.timestamp()]);
      },
    };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'), byKey);
    h.push({ key: 'x', v: 3 }, 1);
    h.push({ key: 'y', v: 1 });
    h.push({ key: 'z', v: 2 });
    h.clock(100);
    expect(h.out).toEqual([]);
    h.clock(103);
    expect(h.out).toEqual([
      [['y', 101, 'processing', undefined], NaN],
      [['x', 103, 'processing', undefined], NaN],
    ]);
  });

  it('ctx.timestamp() is undefined for a record without event time; getCurrentKey gives composite keys back', () => {
    const seen: unknown[] = [];
    const fn = {
      processElement(_e: unknown, ctx: KeyedProcessContext<unknown>) {
        seen.push([ctx.timestamp(), ctx.getCurrentKey(), ctx.timerService().currentWatermark()]);
      },
    };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'), (r) => (r as { k: unknown }).k);
    h.push({ k: ['a', 1] });
    h.watermark(50);
    h.push({ k: 7 }, 60);
    expect(seen).toEqual([
      [undefined, ['a', 1], -Infinity],
      [60, 7, 50],
    ]);
  });

  it('side outputs carry the current timestamp; a tag nobody reads is dropped', () => {
    const fn = {
      processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<number>) {
        if (e.v % 2 === 0) ctx.output({ id: 'even' } as never, e.v);
        else ctx.output({ id: 'nobody' } as never, e.v);
        out.collect(e.v);
      },
    };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'), byKey, ['even']);
    h.push({ key: 'a', v: 1 }, 10);
    h.push({ key: 'a', v: 2 }, 11);
    expect(h.side.get('even')).toEqual([[2, 11]]);
    expect(h.out).toEqual([
      [1, 10],
      [2, 11],
    ]);
  });
});

describe('ProcessOperator (not keyed)', () => {
  it('registering a timer is a PROCESS_NO_TIMERS error naming the operator', () => {
    const fn = { processElement: (_e: unknown, ctx: KeyedProcessContext<unknown>) => ctx.timerService().registerEventTimeTimer(1) };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'));
    const e = failureOf(() => h.push(1, 1));
    expect(e.cause).toBeInstanceOf(ProcessError);
    expect((e.cause as ProcessError).code).toBe('PROCESS_NO_TIMERS');
    expect(e.message).toContain('p-name');
  });

  it('a timer time that is not a number is a PROCESS_INVALID_ARGUMENT error', () => {
    const fn = { processElement: (_e: unknown, ctx: KeyedProcessContext<unknown>) => ctx.timerService().registerEventTimeTimer(Number('x')) };
    const h = harness(new ProcessOperator(id('p'), fn, 'one'), () => 'k');
    expect((failureOf(() => h.push(1, 1)).cause as ProcessError).code).toBe('PROCESS_INVALID_ARGUMENT');
  });

  it('two inputs: tagged records go to processElement1 / processElement2', () => {
    const fn = {
      processElement1: (v: number, _c: unknown, out: Collector<string>) => out.collect(`1:${v}`),
      processElement2: (v: string, _c: unknown, out: Collector<string>) => out.collect(`2:${v}`),
    };
    const h = harness(new ProcessOperator(id('p'), fn, 'two'));
    h.push([0, 5], 1);
    h.push([1, 'x'], 2);
    expect(h.out).toEqual([
      ['1:5', 1],
      ['2:x', 2],
    ]);
  });

  it('a function without the methods of its kind is refused', () => {
    expect(() => new ProcessOperator(id('p'), { processElement1() {} } as never, 'two')).toThrow(/processElement2/);
  });
});

describe('ProcessOperator (broadcast state)', () => {
  const rules = mapState<string, number>('rules');
  const fn = {
    processElement(v: string, ctx: { getBroadcastState: (d: typeof rules) => { get(k: string): number | undefined; put?(k: string, v: number): void } }, out: Collector<unknown>) {
      if (v === 'write') ctx.getBroadcastState(rules).put!('x', 1);
      out.collect([v, ctx.getBroadcastState(rules).get(v) ?? null]);
    },
    processBroadcastElement(r: [string, number], ctx: { getBroadcastState: (d: typeof rules) => { put(k: string, v: number): void } }) {
      ctx.getBroadcastState(rules).put(r[0], r[1]);
    },
  };

  it('the broadcast side writes, the other side reads; a write from processElement is BROADCAST_STATE_READ_ONLY', () => {
    const h = harness(new ProcessOperator(id('b'), fn, 'broadcast'));
    h.push([0, 'a']);
    h.push([1, ['a', 3]]);
    h.push([0, 'a']);
    expect(h.out.map((o) => o[0])).toEqual([
      ['a', null],
      ['a', 3],
    ]);
    const e = failureOf(() => h.push([0, 'write']));
    expect((e.cause as ProcessError).code).toBe('BROADCAST_STATE_READ_ONLY');
  });

  it('snapshot and restore keep the broadcast state', async () => {
    const a = harness(new ProcessOperator(id('b'), fn, 'broadcast'));
    a.push([1, ['k', 9]]);
    expect(a.op.hasState).toBe(true);
    const snap = structuredClone(a.op.snapshotState(1));
    const b = harness(new ProcessOperator(id('b', 1), fn, 'broadcast'));
    await b.op.restoreState(snap);
    b.push([0, 'k']);
    expect(b.out.map((o) => o[0])).toEqual([['k', 9]]);
  });
});

describe('broadcast state on restore', () => {
  it("each task takes task 0's copy (a task new after a rescale included); other function states stay the task's own", async () => {
    const { withTaskZeroBroadcastState } = await import('./task-zero-broadcast.js');
    const fn = { processElement() {}, processBroadcastElement(r: [string, number], c: { getBroadcastState(d: unknown): { put(k: string, v: number): void } }) { c.getBroadcastState(mapState('m')).put(r[0], r[1]); } };
    const zero = new ProcessOperator(id('b', 0), fn, 'broadcast');
    zero.collect([1, ['a', 1]]);
    const one = new ProcessOperator(id('b', 1), fn, 'broadcast');
    one.collect([1, ['stale', 0]]);
    const snap = (taskId: string, op: ProcessOperator) => ({ taskId, checkpointId: 3, operators: {}, inputs: {}, outputs: {}, functions: { b: structuredClone(op.snapshotState(3)), sink: { own: taskId } } });
    const snapshots = [snap('v#1', one), snap('v#0', zero)];
    const forOne = withTaskZeroBroadcastState(snapshots[0].functions, snapshots)!;
    expect(forOne.sink).toEqual({ own: 'v#1' });
    const forNew = withTaskZeroBroadcastState(undefined, snapshots)!;
    expect(forNew.sink).toBeUndefined();
    for (const functions of [forOne, forNew]) {
      const restored = new ProcessOperator(id('b', 2), { ...fn, processElement: (k: string, c: { getBroadcastState(d: unknown): { get(k: string): unknown; entries(): Iterable<unknown> } }, out: Collector<unknown>) => out.collect([c.getBroadcastState(mapState('m')).get(k), [...c.getBroadcastState(mapState('m')).entries()].length]) }, 'broadcast');
      await restored.restoreState(functions.b);
      const h = harness(restored);
      h.push([0, 'a']);
      expect(h.out.map((o) => o[0])).toEqual([[1, 1]]);
    }
  });
});

describe('keyed broadcast process', () => {
  it('processBroadcastElement has no key: keyed state there fails, the broadcast state works', () => {
    const seen: unknown[] = [];
    const fn = {
      processElement(_v: unknown, c: KeyedProcessContext<unknown>) {
        seen.push(c.getCurrentKey());
      },
      processBroadcastElement(_v: unknown, c: { getBroadcastState(d: unknown): { put(k: string, v: number): void } }) {
        c.getBroadcastState(mapState('m')).put('x', 1);
        seen.push((h.inner.keys as { currentKey: unknown }).currentKey);
        (h.inner.keys as { key(): unknown }).key(); // what a keyed state handle does
      },
    };
    const h = harness(new ProcessOperator(id('kb'), fn, 'broadcast'), (r) => ((r as [number, unknown])[0] === 0 ? (r as [number, string])[1] : 0));
    h.push([0, 'k1']);
    const e = failureOf(() => h.push([1, 'rule']));
    expect((e.cause as { code?: string }).code).toBe('STATE_NO_KEY');
    expect(seen).toEqual(['k1', undefined]);
  });
});
