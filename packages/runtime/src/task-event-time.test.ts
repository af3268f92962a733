import {
  makeFrame,
  makeWatermarkFrame,
  silentLogger,
  type ExecutionPlan,
  type Frame,
  type LogicalGraph,
} from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { decodeTaskSnapshot, encodeTaskSnapshot } from './task-snapshot-codec.js';
import { Task } from './task.js';
import { recordingServices } from './test-services.js';
import { deferred, TestTransport, type Deferred } from './test-channels.js';
import { collection, edge, graph, node } from './test-graph.js';
import { EVENT_COUNT, type Event, type Fired } from './test-event-count.js';

function job(out: Fired[], arrived: { next?: Deferred<void> }): { g: LogicalGraph; plan: ExecutionPlan } {
  const g = graph(
    [
      collection('a', [], { parallelism: 1 }),
      collection('b', [], { parallelism: 1 }),
      node('count', EVENT_COUNT, { parallelism: 1 }),
      node('sink', 'sink', {
        fn: (r: Fired) => {
          out.push(r);
          arrived.next?.resolve();
        },
      }),
    ],
    [edge('a', 'count', 'key', { keySelector: (e: Event) => e.k }), edge('b', 'count', 'key', { keySelector: (e: Event) => e.k }), edge('count', 'sink')],
  );
  return { g, plan: createPlan(g, 'event-time') };
}

describe('a task in event time: watermarks through the gate, timers of a registered kind', () => {
  it('fires timers as the minimum watermark over non-idle inputs rises; snapshots and restores the watermark and the timers', async () => {
    const out: Fired[] = [];
    const arrived: { next?: Deferred<void> } = {};
    const { g, plan } = job(out, arrived);
    const { services, transport, snapshots, acked } = recordingServices();
    const taskId = plan.tasks.find((t) => t.vertexId === plan.vertices.find((v) => v.operatorIds.includes('count'))!.id)!.id;
    const inputs = plan.channels.filter((c) => c.targetTask === taskId).sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(inputs).toHaveLength(2);
    const [fromA, fromB] = inputs[0].sourceTask.startsWith('a') ? inputs : [inputs[1], inputs[0]];
    const open = (attempt: number, c: (typeof inputs)[number]) => transport.openSender(`job-1/0.${attempt}/${c.id}`, transport.endpoint, { credits: 64 });
    const send = (s: ReturnType<typeof open>, f: Frame): void => void expect(s.trySend({ ...f, channel: s.channel })).toBe(true);
    const waitFor = async (n: number): Promise<void> => {
      while (out.length < n) {
        arrived.next = deferred();
        await arrived.next.promise;
      }
    };

    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    const running = task.run();
    const a = open(0, fromA);
    const b = open(0, fromB);
    send(a, makeFrame(fromA.id, 'data', 0, [{ k: 'x', t: 5 }, { k: 'y', t: 12 }]));
    send(b, makeFrame(fromB.id, 'data', 0, [{ k: 'x', t: 8 }]));
    send(a, makeWatermarkFrame(fromA.id, 2, 10));
    send(b, makeWatermarkFrame(fromB.id, 1, 6));
    await waitFor(1);
    expect(out).toEqual([{ key: 'x', time: 5, count: 2, watermark: 6 }]);
    // b goes idle: the watermark follows a alone.
    send(b, makeWatermarkFrame(fromB.id, 1, null));
    await waitFor(2);
    expect(out[1]).toEqual({ key: 'x', time: 8, count: 2, watermark: 10 });
    expect(task.watermark).toBe(10);

    const barrier = { checkpointId: 1, timestamp: 0, type: 'checkpoint' as const };
    send(a, makeFrame(fromA.id, 'barrier', 2, null, barrier));
    send(b, makeFrame(fromB.id, 'barrier', 1, null, barrier));
    await acked.promise;
    // Through the codec, as a checkpoint store keeps it.
    const snapshot = decodeTaskSnapshot(encodeTaskSnapshot(snapshots[0]));
    expect(snapshot.watermark).toBe(10);
    expect(snapshot.timers?.count?.map((t) => [t.key, t.time, t.domain])).toEqual([['y', 12, 'event']]);
    task.cancel();
    await running;

    // A new attempt restores: its watermark starts at 10, y's timer and count come back.
    const restoredOut = out.length;
    const again = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 1, attempts: { [fromA.sourceTask]: 0, [fromB.sourceTask]: 0 }, restore: [snapshot] }, services);
    const rerun = again.run();
    const a1 = open(1, fromA);
    const b1 = open(1, fromB);
    send(a1, makeWatermarkFrame(fromA.id, 2, 11));
    send(b1, makeWatermarkFrame(fromB.id, 1, 11));
    send(a1, makeFrame(fromA.id, 'data', 2, [{ k: 'y', t: 20 }]));
    send(a1, makeWatermarkFrame(fromA.id, 3, 30));
    send(b1, makeWatermarkFrame(fromB.id, 1, 25));
    await waitFor(restoredOut + 2);
    expect(out.slice(restoredOut)).toEqual([
      { key: 'y', time: 12, count: 2, watermark: 25 },
      { key: 'y', time: 20, count: 2, watermark: 25 },
    ]);
    expect(again.watermark).toBe(25);
    send(a1, makeFrame(fromA.id, 'end', 3, null));
    send(b1, makeFrame(fromB.id, 'end', 1, null));
    await rerun;
    expect(again.state).toBe('FINISHED');
  });

  it('at the end of input the watermark +Infinity fires every pending event-time timer', async () => {
    const out: Fired[] = [];
    const { g, plan } = job(out, {});
    const transport = new TestTransport();
    const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger };
    const taskId = plan.tasks.find((t) => t.id.startsWith('count'))!.id;
    const inputs = plan.channels.filter((c) => c.targetTask === taskId);
    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    const running = task.run();
    const senders = inputs.map((c) => transport.openSender(`job-1/0.0/${c.id}`, transport.endpoint, { credits: 8 }));
    senders[0].trySend(makeFrame(senders[0].channel, 'data', 0, [{ k: 'z', t: 100 }]));
    senders[0].trySend(makeFrame(senders[0].channel, 'end', 1, null));
    senders[1].trySend(makeFrame(senders[1].channel, 'end', 0, null));
    await running;
    expect(out).toEqual([{ key: 'z', time: 100, count: 1, watermark: Infinity }]);
  });
});
