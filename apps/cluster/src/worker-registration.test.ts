import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type ControlMessage } from '@mobius/interface';
import { ZmqControlClient } from '@mobius/transport-zeromq';
import { Coordinator } from './coordinator.js';

/** A worker with task threads registers their endpoints; the coordinator checks them and pings the worker's main thread. */
describe('registration of a worker with task threads', () => {
  let coordinator: Coordinator;
  const clients: ZmqControlClient[] = [];

  beforeAll(async () => {
    coordinator = new Coordinator({ port: 0, token: 't', logger: silentLogger });
    await coordinator.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await coordinator.stop();
  });

  async function client(id: string): Promise<ZmqControlClient> {
    const c = new ZmqControlClient({ serverEndpoint: coordinator.controlEndpoint, id, logger: silentLogger });
    c.onRequest((_from, m): ControlMessage => (m.type === 'ping' ? { type: 'ok' } : { type: 'error', code: 'UNKNOWN_REQUEST', message: m.type }));
    await c.start();
    clients.push(c);
    return c;
  }

  const register = (c: ZmqControlClient, id: string, slotEndpoints: unknown): Promise<ControlMessage> =>
    c.request('coordinator', { type: 'register', workerId: id, endpoint: 'tcp://127.0.0.1:1', slots: 2, pid: 1, token: 't', slotEndpoints } as ControlMessage, 5000);

  it('keeps the endpoints of its threads and shows them in GET /workers', async () => {
    const c = await client('w-threads');
    expect(await register(c, 'w-threads', ['tcp://127.0.0.1:2', 'tcp://127.0.0.1:3'])).toMatchObject({ type: 'registered' });
    const summary = coordinator.workerSummaries().find((w) => w.id === 'w-threads');
    expect(summary).toMatchObject({ endpoint: 'tcp://127.0.0.1:1', slotEndpoints: ['tcp://127.0.0.1:2', 'tcp://127.0.0.1:3'] });
    const ping = await coordinator.pingWorker('w-threads');
    expect(ping.workerId).toBe('w-threads');
    expect(ping.roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses slot endpoints that are not a non-empty list of strings, naming the field', async () => {
    const c = await client('w-bad');
    for (const bad of [[], 'tcp://127.0.0.1:2', [''], [7]]) {
      expect(await register(c, 'w-bad', bad)).toMatchObject({ type: 'error', code: 'INVALID_WORKER', message: expect.stringMatching(/slotEndpoints/) });
    }
    expect(coordinator.workerSummaries().some((w) => w.id === 'w-bad')).toBe(false);
  });

  it('a worker without task threads registers as before, and a ping to an unknown worker is a 404', async () => {
    const c = await client('w-main');
    expect(await register(c, 'w-main', undefined)).toMatchObject({ type: 'registered' });
    expect(coordinator.workerSummaries().find((w) => w.id === 'w-main')).not.toHaveProperty('slotEndpoints');
    await expect(coordinator.pingWorker('nobody')).rejects.toMatchObject({ code: 'UNKNOWN_WORKER', status: 404 });
  });
});
