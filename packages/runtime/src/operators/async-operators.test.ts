import { TaskFailedError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { deferred, rejection, settle, type Deferred } from '../test-channels.js';
import { DEFAULT_ASYNC_SETTINGS, type AsyncSettings } from './async-calls.js';
import { asyncSettingsOf, type AsyncFunctionOperator } from './async-function-operator.js';
import type { OperatorFactoryContext } from './operator-registry.js';
import { FilterOperator } from './filter-operator.js';
import { FlatMapOperator } from './flat-map-operator.js';
import { MapOperator } from './map-operator.js';
import { PendingWrites } from './pending-writes.js';
import { SinkOperator } from './sink-operator.js';
import { KeyContext } from '../state/key-context.js';
import { id } from './test-operators.js';

/** Records and watermarks in the order they left the operator. */
class Out {
  readonly items: unknown[] = [];
  collect(record: unknown): void {
    this.items.push(record);
  }
  emitWatermark(watermark: number): void {
    this.items.push(`wm ${watermark}`);
  }
  get records(): unknown[] {
    return this.items.filter((i) => typeof i !== 'string' || !i.startsWith('wm '));
  }
}

/** An async user function whose calls complete when the test says so; counts calls in flight. */
class Calls<R> {
  readonly pending = new Map<unknown, Deferred<R>>();
  inFlight = 0;
  maxInFlight = 0;
  readonly started: unknown[] = [];

  readonly fn = (x: unknown): Promise<R> => {
    const d = deferred<R>();
    this.pending.set(x, d);
    this.started.push(x);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    return d.promise.finally(() => this.inFlight--);
  };

  resolve(x: unknown, value: R): void {
    this.pending.get(x)!.resolve(value);
    this.pending.delete(x);
  }
}

/** A seeded shuffle (mulberry32): "random delays" that are the same on every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const settings = (s: Partial<AsyncSettings>): AsyncSettings => ({ ...DEFAULT_ASYNC_SETTINGS, ...s });

function wire<O extends AsyncFunctionOperator>(op: O): { op: O; out: Out } {
  const out = new Out();
  op.setOutput(out);
  return { op, out };
}

describe('async map', () => {
  it('awaits promises and emits results in input order whatever order they complete in', async () => {
    const calls = new Calls<number>();
    const pending = new PendingWrites();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({ capacity: 100 }), pending));
    const input = Array.from({ length: 40 }, (_, i) => i);
    for (const x of input) op.collect(x);
    expect(op.isAsync).toBe(true);
    expect(out.items).toEqual([]);
    for (const x of shuffled(input, 7)) {
      calls.resolve(x, (x as number) * 3);
      await settle();
      // Never a Promise downstream, and never ahead of an earlier record.
      expect(out.records).toEqual(input.slice(0, out.records.length).map((v) => v * 3));
    }
    expect(out.records).toEqual(input.map((x) => x * 3));
    expect(pending.busy).toBe(false);
  });

  it('stays on the synchronous path for a synchronous function: no promise, no queue', () => {
    const pending = new PendingWrites();
    const { op, out } = wire(new MapOperator(id('map-1'), (x: number) => x + 1, settings({}), pending));
    for (let i = 0; i < 5; i++) op.collect(i);
    expect(out.records).toEqual([1, 2, 3, 4, 5]);
    expect(op.isAsync).toBe(false);
    expect(pending.calls).toHaveLength(0);
    expect(pending.promises).toHaveLength(0);
  });

  it('holds at most `capacity` calls in flight, lets the rest wait unstarted, and asks the task to wait for room', async () => {
    const calls = new Calls<number>();
    const pending = new PendingWrites();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({ capacity: 4 }), pending));
    for (let i = 0; i < 10; i++) op.collect(i);
    expect(calls.started).toEqual([0, 1, 2, 3]);
    expect(pending.promises).toHaveLength(1); // the task awaits room before its next batch
    const room = pending.take()[0];
    let roomFree = false;
    void room.then(() => (roomFree = true));
    // Complete out of order: the later ones wait for record 0, still holding their places.
    for (const x of [3, 2, 1]) calls.resolve(x, x);
    await settle();
    expect(calls.started).toEqual([0, 1, 2, 3]);
    expect(out.records).toEqual([]);
    calls.resolve(0, 0);
    await settle();
    expect(out.records).toEqual([0, 1, 2, 3]);
    expect(calls.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let x = 4; x < 10; x++) {
      calls.resolve(x, x);
      await settle();
    }
    expect(roomFree).toBe(true);
    expect(out.records).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(calls.maxInFlight).toBe(4);
  });

  it("on a keyed stream, a call started after later records came runs in its own record's key", async () => {
    const keys = new KeyContext('map');
    const seen: [unknown, unknown][] = [];
    const op = new MapOperator(
      id('map-1'),
      async (x: string) => {
        seen.push([x, keys.key()]); // what a keyed state handle reads before the first await
        await settle();
        return x;
      },
      settings({ capacity: 1 }),
      new PendingWrites(),
    );
    op.keys = keys;
    op.setOutput(new Out());
    for (const x of ['a', 'b', 'c']) {
      keys.currentKey = `key-${x}`; // as KeyedOperator sets it before each record
      op.collect(x);
    }
    await op.finish();
    expect(seen).toEqual([
      ['a', 'key-a'],
      ['b', 'key-b'],
      ['c', 'key-c'],
    ]);
    expect(keys.currentKey).toBe('key-c');
  });

  it('keeps a watermark behind the records before it (ordered)', async () => {
    const calls = new Calls<string>();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({}), new PendingWrites()));
    op.collect('a');
    op.collect('b');
    op.processWatermark(10);
    op.collect('c');
    calls.resolve('c', 'C');
    calls.resolve('b', 'B');
    await settle();
    expect(out.items).toEqual([]);
    calls.resolve('a', 'A');
    await settle();
    expect(out.items).toEqual(['A', 'B', 'wm 10', 'C']);
    op.processWatermark(20); // nothing in flight: straight through
    expect(out.items.at(-1)).toBe('wm 20');
  });

  it('coalesces watermarks that queue behind a slow call with no record between them', async () => {
    const calls = new Calls<string>();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({}), new PendingWrites()));
    op.collect('a');
    for (let wm = 1; wm <= 1000; wm++) op.processWatermark(wm);
    op.collect('b');
    op.processWatermark(2000);
    calls.resolve('b', 'B');
    calls.resolve('a', 'A');
    await settle();
    expect(out.items).toEqual(['A', 'wm 1000', 'B', 'wm 2000']);
  });

  it('unordered: results leave as they complete, but never across a watermark', async () => {
    const calls = new Calls<string>();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({ ordered: false }), new PendingWrites()));
    for (const x of ['a', 'b', 'c']) op.collect(x);
    op.processWatermark(5);
    for (const x of ['d', 'e']) op.collect(x);
    calls.resolve('c', 'C');
    calls.resolve('e', 'E'); // after the watermark: waits for it
    await settle();
    expect(out.items).toEqual(['C']);
    calls.resolve('a', 'A');
    await settle();
    expect(out.items).toEqual(['C', 'A']);
    calls.resolve('b', 'B');
    await settle();
    expect(out.items).toEqual(['C', 'A', 'B', 'wm 5', 'E']);
    calls.resolve('d', 'D');
    await settle();
    expect(out.items).toEqual(['C', 'A', 'B', 'wm 5', 'E', 'D']);
  });

  it('fails with a TaskFailedError naming the operator when a promise rejects, and tells the task at once', async () => {
    const calls = new Calls<number>();
    const pending = new PendingWrites();
    const failures: TaskFailedError[] = [];
    pending.onFailure = (f) => failures.push(f);
    const { op } = wire(new MapOperator(id('map-7', 2), calls.fn, settings({}), pending));
    op.collect(1);
    op.collect(2);
    const cause = new Error('lookup refused');
    calls.pending.get(2)!.reject(cause);
    await settle();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(TaskFailedError);
    expect(failures[0]).toMatchObject({ operatorId: 'map-7', taskIndex: 2, cause });
    // The next record, and a drain at a barrier, fail with it too.
    expect(() => op.collect(3)).toThrow(failures[0]);
    expect(await rejection(pending.settleAll())).toBe(failures[0]);
  });

  it('fails the task when a call does not complete within timeoutMs', async () => {
    const pending = new PendingWrites();
    const failed = deferred<TaskFailedError>();
    pending.onFailure = (f) => failed.resolve(f);
    const { op } = wire(new MapOperator(id('map-1'), () => new Promise(() => undefined), settings({ timeoutMs: 20 }), pending));
    op.collect(1);
    const f = await failed.promise;
    expect(f.message).toMatch(/map-1-name.*did not complete within 20 ms/);
    expect((f.cause as { code: string }).code).toBe('ASYNC_TIMEOUT');
  });

  it('drains every call before settleAll resolves (what a barrier waits for)', async () => {
    const calls = new Calls<number>();
    const pending = new PendingWrites();
    const { op, out } = wire(new MapOperator(id('map-1'), calls.fn, settings({ capacity: 2 }), pending));
    for (let i = 0; i < 5; i++) op.collect(i);
    let drained = false;
    const settling = pending.settleAll().then(() => (drained = true));
    for (let turn = 0; turn < 100 && !drained; turn++) {
      await settle();
      const started = [...calls.pending.keys()];
      if (started.length === 0) continue;
      expect(drained).toBe(false);
      // The latest call first: the earlier ones still hold the results back.
      calls.resolve(started.at(-1), started.at(-1) as number);
    }
    await settling;
    expect(drained).toBe(true);
    expect(out.records).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('async filter, flatMap and sink', () => {
  it('filter awaits the verdict: a promise is never taken as true', async () => {
    const { op, out } = wire(new FilterOperator(id('filter-1'), async (x: number) => x % 3 === 0, settings({}), new PendingWrites()));
    for (let i = 0; i < 10; i++) op.collect(i);
    await op.finish();
    expect(out.records).toEqual([0, 3, 6, 9]);
  });

  it('flatMap emits the awaited iterables in input order', async () => {
    const calls = new Calls<string[]>();
    const { op, out } = wire(new FlatMapOperator(id('flatMap-1'), calls.fn, settings({}), new PendingWrites()));
    for (const x of ['a b', '', 'c']) op.collect(x);
    calls.resolve('c', ['c']);
    calls.resolve('', []);
    calls.resolve('a b', ['a', 'b']);
    await op.finish();
    expect(out.records).toEqual(['a', 'b', 'c']);
  });

  it('sink writes start in input order, at most `capacity` at a time, and are settled with the batch', async () => {
    const calls = new Calls<void>();
    const pending = new PendingWrites();
    const op = new SinkOperator(id('sink-1'), calls.fn, pending, settings({ capacity: 3, settleWithBatch: true }));
    for (let i = 0; i < 8; i++) op.collect(i);
    expect(calls.started).toEqual([0, 1, 2]);
    const settling = pending.settleAll();
    for (let i = 0; i < 8; i++) {
      calls.resolve(i, undefined);
      await settle();
    }
    await settling;
    expect(calls.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(calls.maxInFlight).toBe(3);
  });
});

describe('asyncSettingsOf', () => {
  const ctx = (own: Record<string, unknown>, job: Record<string, unknown>, logsDeterminants: boolean) =>
    ({ node: { config: own }, jobConfig: job, logsDeterminants }) as unknown as OperatorFactoryContext;

  it("takes the operator's runtime.async.* options, else the job's, else the defaults", () => {
    expect(asyncSettingsOf(ctx({}, {}, false))).toEqual({ capacity: 100, ordered: true, timeoutMs: 0, settleWithBatch: false });
    expect(asyncSettingsOf(ctx({ 'runtime.async.capacity': 5 }, { 'runtime.async.capacity': 9, 'runtime.async.ordered': false, 'runtime.async.timeout.ms': 30 }, false))).toEqual({
      capacity: 5,
      ordered: false,
      timeoutMs: 30,
      settleWithBatch: false,
    });
  });

  it('keeps results in order when the task logs determinants (single-task failover replays the same output order)', () => {
    expect(asyncSettingsOf(ctx({ 'runtime.async.ordered': false }, {}, true)).ordered).toBe(true);
  });
});
