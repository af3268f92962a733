import type { TaskMetrics } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { operatorLoads } from './operator-load.js';
import { testPlan } from './test-fixtures.js';

function task(taskId: string, load: Partial<TaskMetrics>): TaskMetrics {
  return { taskId, vertexName: taskId.split('#')[0], recordsIn: 0, recordsOut: 0, attempt: 0, ...load };
}

describe('operatorLoads', () => {
  it('sums the rates and averages the times of each operator\'s tasks, in plan order', () => {
    const plan = testPlan({});
    const loads = operatorLoads(plan, [
      task('map#0', { busyTimeMsPerSecond: 900, backPressuredTimeMsPerSecond: 50, idleTimeMsPerSecond: 50, recordsInPerSecond: 450, recordsOutPerSecond: 450, trueProcessingRate: 500, trueOutputRate: 500 }),
      task('map#1', { busyTimeMsPerSecond: 500, backPressuredTimeMsPerSecond: 0, idleTimeMsPerSecond: 500, recordsInPerSecond: 100, recordsOutPerSecond: 50, trueProcessingRate: 200, trueOutputRate: 100 }),
      // Never busy in its window: no true rate, still in the means and sums.
      task('source#0', { busyTimeMsPerSecond: 0, backPressuredTimeMsPerSecond: 0, idleTimeMsPerSecond: 1000, recordsInPerSecond: 0, recordsOutPerSecond: 0 }),
      // Not running: no load figures, left out.
      task('source#1', {}),
    ]);
    expect(loads.map((l) => l.operatorId)).toEqual(['source', 'map', 'sink']);
    const map = loads[1];
    expect(map).toMatchObject({
      vertexId: 'map',
      parallelism: 2,
      tasksReporting: 2,
      busyTimeMsPerSecond: 700,
      maxBusyTimeMsPerSecond: 900,
      backPressuredTimeMsPerSecond: 25,
      idleTimeMsPerSecond: 275,
      recordsInPerSecond: 550,
      recordsOutPerSecond: 500,
      trueProcessingRate: 700,
      trueOutputRate: 600,
    });
    expect(loads[0]).toMatchObject({ tasksReporting: 1, idleTimeMsPerSecond: 1000, trueProcessingRate: null });
    expect(loads[2]).toMatchObject({ tasksReporting: 0, busyTimeMsPerSecond: null, maxBusyTimeMsPerSecond: null, recordsInPerSecond: null });
  });
});
