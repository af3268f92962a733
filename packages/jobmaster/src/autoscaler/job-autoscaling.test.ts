import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, TaskMetrics } from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { SlotScheduler } from '@mobius/scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { JobMaster, type JobEnd } from '../job-master.js';
import { FakeGateway, RecordingLogger, testPlan } from '../test-fixtures.js';
import type { AutoscalerEvent } from './autoscaler-event.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Figures of a task of the test plan (source p=2 → map p=2 → sink p=1). */
const load = (taskId: string, recordsInPerSecond: number, trueProcessingRate: number, attempt = 0): TaskMetrics => ({
  taskId,
  vertexName: taskId.split('#')[0],
  recordsIn: 0,
  recordsOut: 0,
  attempt,
  busyTimeMsPerSecond: (1000 * recordsInPerSecond) / trueProcessingRate,
  recordsInPerSecond,
  recordsOutPerSecond: recordsInPerSecond,
  trueProcessingRate,
});

/** A job master on the scripted gateway, with the autoscaler evaluating every millisecond. */
async function started(config: ConfigMap, taskMetrics?: () => readonly TaskMetrics[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mobius-asl-'));
  dirs.push(dir);
  const store = new FsCheckpointStore({ directory: dir });
  const scheduler = new SlotScheduler();
  scheduler.registerWorker({ id: 'w1', endpoint: 'tcp://w1', slots: 8 });
  const logger = new RecordingLogger();
  const gateway = new FakeGateway('job-1', store);
  const plan = testPlan({ 'checkpoint.interval.ms': 60_000, 'autoscaler.interval.ms': 1, 'autoscaler.stabilization.ms': 0, ...config });
  const jm = new JobMaster({ jobId: 'job-1', name: 'test', plan, gateway, scheduler, logger, checkpoints: { store, dir, retained: 2 }, ...(taskMetrics ? { taskMetrics } : {}) });
  gateway.listener = jm;
  const ended = new Promise<JobEnd>((resolve) => jm.onEnded(resolve));
  /** Resolves once `cond()` holds, re-checked on every log line (each evaluation logs one). */
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await logger.next('', logger.entries.length);
  };
  await jm.start();
  await until(() => [...jm.tasks.values()].every((t) => t.state === 'RUNNING'));
  return { jm, gateway, logger, ended, until };
}

describe('the autoscaler in the job master', () => {
  it('is off unless autoscaler.enabled: no loop, no events', async () => {
    const { jm, gateway, ended } = await started({});
    expect(jm.autoscaler.active).toBe(false);
    gateway.finishAll();
    await ended;
    expect(jm.autoscalerEvents()).toEqual([]);
  });

  it('starts with the job, decides on the figures the app passes, records a failed rescale and runs on, and stops when the job ends', async () => {
    // The map takes 600 records/s with 300 per task: utilization 1, DS2 wants ceil(600 / 210) = 3.
    const figures = [load('source#0', 300, 50_000), load('source#1', 300, 50_000), load('map#0', 300, 300), load('map#1', 300, 300), load('sink#0', 600, 50_000)];
    const { jm, gateway, ended, until } = await started({ 'autoscaler.enabled': true }, () => figures);
    expect(jm.autoscaler.active).toBe(true);
    const failed = (): AutoscalerEvent | undefined => jm.autoscalerEvents().find((e) => e.outcome === 'failed');
    await until(() => failed() !== undefined);
    const events = jm.autoscalerEvents();
    const taken = events[events.indexOf(failed()!) - 1];
    expect(taken.decisions).toEqual([{ vertex: 'map', from: 2, to: 3, wanted: 3 }]);
    // This job master has no graph: live rescaling says why it cannot, and the job goes on.
    expect(failed()!.reason).toMatch(/^"map" 2 → 3 failed \(RESCALE_UNSUPPORTED\): /);
    expect(jm.state).toBe('RUNNING');
    expect(jm.rescaling.events).toEqual([]);
    const after = jm.autoscalerEvents().length;
    await until(() => jm.autoscalerEvents().length > after);

    gateway.finishAll();
    await ended;
    expect(jm.autoscaler.active).toBe(false);
  });

  it('an inconsistent autoscaler config is a ConfigError naming the key when the job master is created', async () => {
    await expect(started({ 'autoscaler.target-utilization': 0.5, 'autoscaler.target-utilization.boundary': 0.5 })).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_INVALID_VALUE',
      message: expect.stringContaining("'autoscaler.target-utilization.boundary' (0.5) must be below 'autoscaler.target-utilization' (0.5)"),
    });
  });

  it('without taskMetrics it reads what the tasks last reported, current attempts only', async () => {
    const { jm, until } = await started({ 'autoscaler.enabled': true });
    const report = (m: TaskMetrics): void => void (jm.tasks.get(m.taskId)!.metrics = m);
    report(load('source#0', 150, 50_000));
    report(load('source#1', 150, 50_000));
    report(load('map#0', 300, 300));
    // A figure of another attempt than the task's current one (a late heartbeat of a replaced attempt).
    report(load('map#1', 99_999, 300, 7));
    const evaluated = (): AutoscalerEvent | undefined => jm.autoscalerEvents().find((e) => e.rates.map !== undefined);
    await until(() => evaluated() !== undefined);
    expect(evaluated()!.rates.map.inputRate).toBe(300);
    expect(evaluated()!.rates.source.inputRate).toBe(300);
    jm.cancel();
  });
});
