import type { ControlMessage } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CollectForwarder } from './collect-forwarder.js';

/** A coordinator stand-in: each request waits until the test answers it. */
class Coordinator {
  readonly requests: { message: Extract<ControlMessage, { type: 'collect' }>; reply(r: ControlMessage): void }[] = [];
  readonly send = (message: ControlMessage): Promise<ControlMessage> =>
    new Promise((resolve) => this.requests.push({ message: message as Extract<ControlMessage, { type: 'collect' }>, reply: resolve }));
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CollectForwarder', () => {
  it('sends full batches, one in flight per task, and holds the sink back when a second batch is full', async () => {
    const coordinator = new Coordinator();
    const outlet = new CollectForwarder('job', coordinator.send, 3, 60_000).outlet('collect-2', 1);
    expect([outlet.push(1), outlet.push(2), outlet.push(3)]).toEqual([true, true, true]);
    expect(coordinator.requests.map((r) => r.message.records)).toEqual([[1, 2, 3]]);
    expect(coordinator.requests[0].message).toMatchObject({ type: 'collect', jobId: 'job', collectId: 'collect-2', taskIndex: 1 });
    expect([outlet.push(4), outlet.push(5), outlet.push(6)]).toEqual([true, true, false]);
    let writable = false;
    const wait = outlet.whenWritable().then(() => (writable = true));
    await turn();
    expect(writable).toBe(false);
    coordinator.requests[0].reply({ type: 'ok' });
    await wait;
    expect(coordinator.requests.map((r) => r.message.records)).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('after collect-full asks for room with empty requests before it sends more records', async () => {
    const coordinator = new Coordinator();
    const outlet = new CollectForwarder('job', coordinator.send, 2, 60_000).outlet('collect-2', 0);
    outlet.push(1);
    outlet.push(2);
    outlet.push(3);
    coordinator.requests[0].reply({ type: 'collect-full' });
    await turn();
    expect(coordinator.requests[1].message.records).toEqual([]);
    coordinator.requests[1].reply({ type: 'ok' });
    await turn();
    expect(coordinator.requests[2].message.records).toEqual([3]);
  });

  it('flush() sends a partial batch and resolves once the coordinator took everything', async () => {
    const coordinator = new Coordinator();
    const outlet = new CollectForwarder('job', coordinator.send, 100, 60_000).outlet('collect-2', 0);
    outlet.push('a');
    let flushed = false;
    const flush = outlet.flush!().then(() => (flushed = true));
    await turn();
    expect(coordinator.requests.map((r) => r.message.records)).toEqual([['a']]);
    expect(flushed).toBe(false);
    coordinator.requests[0].reply({ type: 'ok' });
    await flush;
  });

  it("a refused batch fails the sink with the coordinator's error", async () => {
    const coordinator = new Coordinator();
    const outlet = new CollectForwarder('job', coordinator.send, 1, 60_000).outlet('collect-2', 0);
    outlet.push(1);
    coordinator.requests[0].reply({ type: 'error', code: 'UNKNOWN_JOB', message: 'no job' });
    await expect(outlet.flush!()).rejects.toMatchObject({ code: 'UNKNOWN_JOB' });
    expect(() => outlet.push(2)).toThrow('no job');
  });
});
