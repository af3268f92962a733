import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, startCluster, stopAll, type Proc } from './cluster-helpers.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

// Over real ZeroMQ: worker processes register with a coordinator process on its control port.
describe('worker registration checks the shared token', () => {
  let cluster: Cluster;
  const extra: Proc[] = [];
  beforeAll(async () => {
    cluster = await startCluster(0, { token: 'right-token' });
  }, 60_000);
  afterAll(async () => {
    await stopAll(extra);
    await cluster?.stop();
  });

  it('a worker with a wrong token is refused: it exits naming the refusal, the coordinator logs it and lists no worker', async () => {
    const wrong = start(['worker', '--coordinator', cluster.control, '--token', 'wrong-token', '--slots', '1']);
    extra.push(wrong);
    const exit = await wrong.exited;
    expect(exit.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).toMatch(/the coordinator refused this worker: registration refused: bad or missing token/);
    expect(cluster.coordinator.stderr + cluster.coordinator.stdout).toMatch(/worker registration refused: bad or missing token/);
    expect((await cluster.api.call<unknown[]>('GET', '/workers')).body).toEqual([]);
  }, 60_000);

  it('a worker without a token is refused too', async () => {
    const none = start(['worker', '--coordinator', cluster.control, '--slots', '1'], { MOBIUS_TOKEN: '' });
    extra.push(none);
    const exit = await none.exited;
    expect(exit.code).not.toBe(0);
    expect(none.stderr + none.stdout).toMatch(/registration refused: bad or missing token/);
    expect((await cluster.api.call<unknown[]>('GET', '/workers')).body).toEqual([]);
  }, 60_000);

  it('a worker with the right token registers and is listed', async () => {
    const right = cluster.startWorker();
    const workers = await cluster.api.waitForWorkers(1, 60_000);
    expect(workers[0].pid).toBe(right.child.pid);
    expect(right.child.exitCode).toBeNull();
  }, 60_000);
});
