import { describe, expect, it } from 'vitest';
import { ds2Rates } from './ds2-rates.js';
import { orderVertices, type TaskLoad, type VertexLoad } from './vertex-load.js';

/** One task with the given rates, busy enough for a true processing rate of `rate` per busy second. */
const task = (recordsIn: number, recordsOut: number, rate = 1000): TaskLoad => ({
  recordsInPerSecond: recordsIn,
  recordsOutPerSecond: recordsOut,
  busyTimeMsPerSecond: (1000 * recordsIn) / rate,
  trueProcessingRate: rate,
});

const vertex = (vertexId: string, upstream: string[], tasks: TaskLoad[], extra: Partial<VertexLoad> = {}): VertexLoad => ({
  vertexId,
  parallelism: tasks.length,
  maxParallelism: 128,
  tasks,
  upstream,
  source: upstream.length === 0,
  ...extra,
});

const rates = (vertices: VertexLoad[], target = 0.5) => ds2Rates(orderVertices(vertices), target);

describe('ds2Rates', () => {
  it('carries each edge of a fan-out by its own ratio: a filter halves, a broadcast to two tasks doubles', () => {
    // The source emits 100/s: 100 records to the filter and, broadcast, 200 to the two tasks of b.
    const r = rates([
      vertex('s', [], [task(100, 300)], { backlogGrowthPerSecond: 100 }),
      vertex('f', ['s'], [task(100, 50)]),
      vertex('k', ['f'], [task(50, 0)]),
      vertex('b', ['s'], [task(100, 0), task(100, 0)]),
    ]);
    // The source must take 100 + 100 = 200/s: twice what it does now, everywhere downstream.
    expect(r.get('s')!.targetRate).toBe(200);
    expect(r.get('f')!.targetRate).toBe(200);
    expect(r.get('k')!.targetRate).toBe(100);
    expect(r.get('b')!.targetRate).toBe(400);
    // b: 400/s at 1000/s per task and target 0.5 → ceil(400 / 500) = 1; utilization 400 / 2000.
    expect(r.get('b')!.optimal).toBe(1);
    expect(r.get('b')!.utilization).toBeCloseTo(0.2, 9);
  });

  it('adds the inputs of a union', () => {
    const r = rates([
      vertex('a', [], [task(100, 100)], { backlogGrowthPerSecond: 100 }),
      vertex('b', [], [task(300, 300)]),
      vertex('u', ['a', 'b'], [task(200, 200), task(200, 200)]),
    ]);
    expect(r.get('u')!.targetRate).toBe(200 + 300);
    expect(r.get('u')!.inputRate).toBe(400);
  });

  it('never counts a draining backlog below zero demand', () => {
    const r = rates([vertex('s', [], [task(100, 100)], { backlogGrowthPerSecond: -500 }), vertex('m', ['s'], [task(100, 0)])]);
    expect(r.get('s')!.targetRate).toBe(0);
    expect(r.get('m')!.targetRate).toBe(0);
    expect(r.get('m')!.optimal).toBe(1);
  });

  it('derives the true processing rate from busy time when a task does not report it, and averages over tasks', () => {
    const r = rates([
      vertex('s', [], [task(600, 600)]),
      vertex('m', ['s'], [
        { recordsInPerSecond: 300, recordsOutPerSecond: 300, busyTimeMsPerSecond: 500 },
        { recordsInPerSecond: 300, recordsOutPerSecond: 300, busyTimeMsPerSecond: 250, trueProcessingRate: 1200 },
      ]),
    ]);
    expect(r.get('m')!.trueProcessingRate).toBe((600 + 1200) / 2);
    expect(r.get('m')!.busy).toBeCloseTo(0.375, 9);
  });

  it('knows nothing of a vertex whose tasks were never busy, and says so in JSON with nulls', () => {
    const r = rates([vertex('s', [], [task(100, 100)]), vertex('m', ['s'], [{}, { recordsInPerSecond: 0 }])]);
    expect(r.get('m')).toMatchObject({ trueProcessingRate: null, utilization: null, optimal: null, busy: 0 });
    expect(JSON.stringify(Object.fromEntries(r))).not.toContain('NaN');
  });

  it('does not round an exact number of tasks up', () => {
    // 8.4/s at 3/s per task and target 0.7: exactly 4 tasks, though 8.4 / (3 × 0.7) is 4.000000000000001 in floating point.
    const r = ds2Rates(orderVertices([vertex('s', [], [task(8.4, 8.4)]), vertex('m', ['s'], [task(8.4, 0, 3)])]), 0.7);
    expect(r.get('m')!.optimal).toBe(4);
  });
});
