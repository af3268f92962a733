import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Coordinator } from 'mobius-cluster';
import { RecordingLogger } from './checkpoint-helpers.js';
import { start, stopAll, type Proc } from './cluster-helpers.js';
import { until } from './failover-helpers.js';

/**
 * The coordinator's own thread held (by a synchronous loop, as a long GC pause or a starved
 * machine would hold it) for three heartbeat timeouts is not the workers' silence: their
 * heartbeats wait in the socket, and none of them is declared lost when the thread comes back.
 * The coordinator runs in this test's thread, so the test can hold it; the workers are real
 * processes, heartbeating over real ZeroMQ.
 */
describe('a coordinator whose thread is held for longer than the heartbeat timeout', () => {
  const workers: Proc[] = [];
  const logger = new RecordingLogger();
  const token = randomUUID();
  const coordinator = new Coordinator({ port: 0, token, heartbeatTimeoutMs: 2000, logger });
  afterAll(async () => {
    await stopAll(workers);
    await coordinator.stop();
  });

  it('declares no worker lost when it resumes, and says how long it was held', async () => {
    await coordinator.start();
    for (let i = 0; i < 2; i++) workers.push(start(['worker', '--coordinator', coordinator.controlEndpoint, '--token', token, '--slots', '1']));
    await until('two workers registered', async () => (coordinator.workerSummaries().length === 2 ? true : undefined), 60_000);

    const end = Date.now() + 6000;
    while (Date.now() < end) {
      // held: no timer, no socket of the coordinator runs
    }
    const resumed = Date.now();
    // Every worker heartbeats again after the pause (heartbeats come every 500 ms).
    await until('a heartbeat from every worker after the pause', async () => {
      const seen = coordinator.workerSummaries();
      return seen.length === 2 && seen.every((w) => (w.lastHeartbeat as number) > resumed) ? true : undefined;
    }, 30_000);

    expect(logger.messages('error').filter((m) => / lost/.test(m))).toEqual([]);
    expect(coordinator.workerSummaries()).toHaveLength(2);
    const held = logger.lines.find((l) => typeof l.obj.heldMs === 'number');
    expect(held?.obj.heldMs).toBeGreaterThan(4000);
  }, 120_000);
});
