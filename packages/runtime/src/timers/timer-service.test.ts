import type { StateKey } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { KeyContext } from '../state/key-context.js';
import { stateKeyGroupOf } from '../state/operator-state.js';
import type { KeyGroupRange, StateSnapshot, TaskStateBackend, TimerEntry } from '@mobius/interface';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { HeapTimerService } from './heap-timer-service.js';
import { StateTimerService } from './state-timer-service.js';
import type { TimeDomain, TimerService } from './timer-service.js';

const MAX = 128;
const ALL: KeyGroupRange = { start: 0, end: MAX - 1 };
const keyGroupOf = (key: StateKey, max: number): number => stateKeyGroupOf(max)(key);

type Kind = 'heap' | 'state';

interface Service {
  timers: TimerService;
  keys: KeyContext;
  state: TaskStateBackend;
  fired: [StateKey, number, TimeDomain][];
}

/**
 * A timer service of `kind` over a memory state backend owning `keyGroups`. The state service
 * gets buckets of 10 ms and chunks of 4 timers, so the tests cross buckets and chunks.
 */
function create(kind: Kind, keyGroups: KeyGroupRange = ALL): Service {
  const keys = new KeyContext('op');
  const state = new MemoryStateBackend().create({ jobId: 'j', operatorId: 'op', taskIndex: 0, maxParallelism: MAX, keyGroups, keyGroupOf: stateKeyGroupOf(MAX) });
  const timers: TimerService =
    kind === 'heap' ? new HeapTimerService(keys, stateKeyGroupOf(MAX)) : new StateTimerService(keys, stateKeyGroupOf(MAX), keyGroups, state, { bucketMs: 10, chunkSize: 4 });
  const fired: [StateKey, number, TimeDomain][] = [];
  timers.target = { onTimer: (time, domain) => void fired.push([keys.currentKey!, time, domain]) };
  return { timers, keys, state, fired };
}

async function snapshotOf(s: Service): Promise<{ state: StateSnapshot; timers: TimerEntry[] }> {
  return { state: await s.state.snapshot(1), timers: s.timers.snapshot() };
}

/** A service of `kind` owning `keyGroups`, restored from `snap` (state first, then timers, as a task does). */
async function restored(kind: Kind, snap: { state: StateSnapshot; timers: TimerEntry[] }, keyGroups: KeyGroupRange = ALL): Promise<Service> {
  const s = create(kind, keyGroups);
  await s.state.restore([snap.state]);
  s.timers.restore(snap.timers, keyGroups);
  return s;
}

function register(t: TimerService, keys: KeyContext, key: StateKey, time: number, domain: TimeDomain = 'event'): void {
  keys.currentKey = key;
  if (domain === 'event') t.registerEventTimeTimer(time);
  else t.registerProcessingTimeTimer(time);
}

describe.each(['heap', 'state'] as const)('TimerService (%s)', (kind) => {
  const service = (): Service => create(kind);

  it('event-time timers fire in time order, in their key, when the watermark reaches them', () => {
    const { timers, keys, fired } = service();
    register(timers, keys, 'b', 30);
    register(timers, keys, 'a', 10);
    register(timers, keys, 'c', 20);
    register(timers, keys, 'a', 40);
    timers.advanceWatermark(9);
    expect(fired).toEqual([]);
    timers.advanceWatermark(30);
    expect(fired).toEqual([
      ['a', 10, 'event'],
      ['c', 20, 'event'],
      ['b', 30, 'event'],
    ]);
    timers.advanceWatermark(Infinity);
    expect(fired.at(-1)).toEqual(['a', 40, 'event']);
    expect(timers.size).toBe(0);
  });

  it('one timer per (key, time, domain); a deleted timer does not fire; keys 1 and "1" are distinct', () => {
    const { timers, keys, fired } = service();
    register(timers, keys, 'a', 10);
    register(timers, keys, 'a', 10);
    register(timers, keys, 1, 10);
    register(timers, keys, '1', 10);
    register(timers, keys, 'a', 10, 'processing');
    keys.currentKey = '1';
    timers.deleteEventTimeTimer(10);
    // In state, registering is a blind write: the second ('a', 10) counts until its bucket is read.
    expect(timers.size).toBe(kind === 'heap' ? 3 : 4);
    timers.advanceWatermark(10);
    expect(fired).toEqual([
      ['a', 10, 'event'],
      [1, 10, 'event'],
    ]);
    expect(timers.size).toBe(1);
  });

  it('a timer registered from onTimer at or below the watermark fires in the same advance', () => {
    const { timers, keys, fired } = service();
    timers.target = {
      onTimer(time) {
        fired.push([keys.currentKey!, time, 'event']);
        if (time === 5) timers.registerEventTimeTimer(7);
      },
    };
    register(timers, keys, 'k', 5);
    timers.advanceWatermark(8);
    expect(fired).toEqual([
      ['k', 5, 'event'],
      ['k', 7, 'event'],
    ]);
  });

  it('onTimer deleting a timer due in the same advance keeps it from firing; re-registering a pending one adds nothing', () => {
    const { timers, keys, fired } = service();
    timers.target = {
      onTimer(time) {
        fired.push([keys.currentKey!, time, 'event']);
        if (time === 5) {
          timers.deleteEventTimeTimer(6);
          timers.registerEventTimeTimer(7); // already pending: still fires once
        }
      },
    };
    for (const t of [5, 6, 7]) register(timers, keys, 'k', t);
    timers.advanceWatermark(10);
    expect(fired).toEqual([
      ['k', 5, 'event'],
      ['k', 7, 'event'],
    ]);
    expect(timers.size).toBe(0);
  });

  it('processing-time timers fire only when the task asks, and report the earliest pending time', () => {
    const { timers, keys, fired } = service();
    const wakeUps: number[] = [];
    timers.onProcessingTimer = (time) => wakeUps.push(time);
    register(timers, keys, 'a', 1_000, 'processing');
    register(timers, keys, 'b', 500, 'processing');
    register(timers, keys, 'c', 2_000, 'processing');
    expect(wakeUps).toEqual([1_000, 500]);
    expect(timers.nextProcessingTime()).toBe(500);
    timers.advanceWatermark(Infinity); // event time does not fire processing timers
    expect(fired).toEqual([]);
    timers.fireProcessingTimers(1_500);
    expect(fired).toEqual([
      ['b', 500, 'processing'],
      ['a', 1_000, 'processing'],
    ]);
    expect(wakeUps.at(-1)).toBe(2_000);
    keys.currentKey = 'c';
    timers.deleteProcessingTimeTimer(2_000);
    if (kind === 'state') {
      // A deletion is a blind write: the task wakes up at 2,000, finds nothing due, and then knows.
      expect(timers.nextProcessingTime()).toBe(2_000);
      timers.fireProcessingTimers(2_000);
      expect(fired).toHaveLength(2);
    }
    expect(timers.nextProcessingTime()).toBeUndefined();
    expect(timers.size).toBe(0);
  });

  it('snapshot and restore: a task keeps only the timers of the key groups it owns, and together they hold them all', async () => {
    const original = service();
    const { timers, keys } = original;
    const all: [StateKey, number, TimeDomain][] = [];
    for (let i = 0; i < 200; i++) {
      const key: StateKey = i % 3 === 0 ? i : `k${i}`;
      const domain: TimeDomain = i % 2 === 0 ? 'event' : 'processing';
      register(timers, keys, key, 1000 + i, domain);
      all.push([key, 1000 + i, domain]);
    }
    const snap = await snapshotOf(original);
    if (kind === 'heap') {
      expect(snap.timers).toHaveLength(200);
      for (const e of snap.timers) expect(e.keyGroup).toBe(keyGroupOf(e.key, MAX));
    } else {
      expect(snap.timers).toHaveLength(0); // in keyed state, split by key group with it
    }

    const halves = [
      { start: 0, end: 63 },
      { start: 64, end: 127 },
    ];
    const parts = await Promise.all(halves.map((range) => restored(kind, snap, range)));
    const fired = parts.map((s, i) => {
      const range = halves[i];
      expect(s.timers.size).toBeGreaterThan(0);
      s.timers.advanceWatermark(Infinity);
      s.timers.fireProcessingTimers(Infinity);
      for (const [key] of s.fired) {
        const kg = keyGroupOf(key, MAX);
        expect(kg >= range.start && kg <= range.end).toBe(true);
      }
      expect(s.timers.size).toBe(0);
      return s.fired;
    });
    const sortKey = (x: [StateKey, number, TimeDomain]): string => `${x[2]}|${x[1]}|${typeof x[0]}:${String(x[0])}`;
    expect([...fired[0], ...fired[1]].map(sortKey).sort()).toEqual(all.map(sortKey).sort());
    expect(fired[0].length).toBeGreaterThan(0);
    expect(fired[1].length).toBeGreaterThan(0);
  });

  it('random registers, deletes and watermarks: every live timer fires once, each key in time order, none early', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let s = service();
    const live = new Map<string, [StateKey, number]>(); // the reference: live event timers by key|time
    const id = (key: StateKey, time: number): string => `${typeof key}:${String(key)}@${time}`;
    let watermark = -Infinity;
    const expected: string[] = [];
    const advances: [number, number][] = []; // [from, to) of s.fired per watermark advance
    for (let step = 0; step < 3_000; step++) {
      const r = rand(100);
      const key: StateKey = rand(2) === 0 ? rand(50) : `k${rand(50)}`;
      if (r < 60) {
        const time = Math.max(0, (watermark === -Infinity ? 0 : watermark) + rand(200) - 20);
        s.keys.currentKey = key;
        s.timers.registerEventTimeTimer(time);
        live.set(id(key, time), [key, time]);
      } else if (r < 75) {
        const mine = [...live.values()].filter(([k]) => k === key);
        if (mine.length > 0) {
          const [, time] = mine[rand(mine.length)];
          s.keys.currentKey = key;
          s.timers.deleteEventTimeTimer(time);
          live.delete(id(key, time));
        }
      } else if (r < 95) {
        watermark = (watermark === -Infinity ? 0 : watermark) + rand(40);
        for (const [k, t] of [...live.values()]) {
          if (t <= watermark) {
            expected.push(id(k, t));
            live.delete(id(k, t));
          }
        }
        const before = s.fired.length;
        s.timers.advanceWatermark(watermark);
        advances.push([before, s.fired.length]);
      } else {
        const fired = s.fired;
        s = await restored(kind, await snapshotOf(s));
        s.fired.push(...fired);
      }
      // On the heap exact; in state a timer registered twice counts twice until its bucket is read.
      if (kind === 'heap') expect(s.timers.size).toBe(live.size);
      else expect(s.timers.size).toBeGreaterThanOrEqual(live.size);
    }
    for (const [k, t] of live.values()) expected.push(id(k, t));
    const before = s.fired.length;
    s.timers.advanceWatermark(Infinity);
    advances.push([before, s.fired.length]);
    expect(s.fired.map(([k, t]) => id(k, t)).sort()).toEqual(expected.sort());
    // Within one advance, each key's timers fire in time order (a timer registered at or below
    // the watermark after an advance fires in the next one, after later times of the same key).
    for (const [from, to] of advances) {
      const lastByKey = new Map<string, number>();
      for (const [k, t] of s.fired.slice(from, to)) {
        const kk = `${typeof k}:${String(k)}`;
        expect(t).toBeGreaterThanOrEqual(lastByKey.get(kk) ?? -Infinity);
        lastByKey.set(kk, t);
      }
    }
    expect(advances.length).toBeGreaterThan(100);
    expect(s.timers.size).toBe(0);
  });
});

describe('StateTimerService', () => {
  it('restores the timers of a heap service snapshot (switching to a backend that keeps timers in state)', async () => {
    const heap = create('heap');
    for (let i = 0; i < 50; i++) register(heap.timers, heap.keys, `k${i}`, 100 + i, i % 2 === 0 ? 'event' : 'processing');
    const s = await restored('state', await snapshotOf(heap));
    expect(s.timers.size).toBe(50);
    s.timers.advanceWatermark(Infinity);
    s.timers.fireProcessingTimers(Infinity);
    expect(s.fired.map(([k, t, d]) => `${String(k)}@${t}/${d}`).sort()).toEqual(
      Array.from({ length: 50 }, (_, i) => `k${i}@${100 + i}/${i % 2 === 0 ? 'event' : 'processing'}`).sort(),
    );
  });

  it('keeps its timers in keyed state, not on the heap: a bucket is read only when it is due', () => {
    const s = create('state');
    for (let i = 0; i < 1_000; i++) register(s.timers, s.keys, `k${i}`, i % 100);
    const chunks = s.state.keyed<[number[], StateKey[]]>('\u0001timers:chunks');
    const stored = chunks.size();
    expect(stored).toBeGreaterThanOrEqual(1_000 / 4); // chunks of 4
    s.timers.advanceWatermark(49); // buckets 0..4 of 10 ms: half of the timers
    expect(s.fired).toHaveLength(500);
    expect(chunks.size()).toBeLessThanOrEqual(stored / 2 + 128);
    expect(s.timers.size).toBe(500);
  });
});
