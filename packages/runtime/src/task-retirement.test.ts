import { makeFrame, type Frame, type PlanChannel } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { Task } from './task.js';
import { recordingServices } from './test-services.js';
import { collection, edge, graph, node } from './test-graph.js';
import { settle } from './test-channels.js';

describe('Task.stopAt: a task retired at a barrier (live rescaling)', () => {
  it('snapshots at the barrier, reads nothing after it, sends no end of input, and ends once that checkpoint completes', async () => {
    const finished: string[] = [];
    const g = graph(
      [collection('a', [], { parallelism: 1 }), node('map', 'map', { parallelism: 1, fn: (x: string) => x.toUpperCase() }), node('sink', 'sink', { parallelism: 1 })],
      [edge('a', 'map', 'rebalance'), edge('map', 'sink', 'rebalance')],
      { 'runtime.batch.size': 1 },
    );
    const plan = createPlan(g, 'retire');
    const { services, transport, snapshots, acked } = recordingServices();
    const taskId = plan.tasks.find((t) => t.id.startsWith('map'))!.id;
    const input = plan.channels.find((c) => c.targetTask === taskId)!;
    const output = plan.channels.find((c) => c.sourceTask === taskId)!;
    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    task.stopAt(1);
    const running = task.run().then(() => void finished.push(task.state));
    const open = (c: PlanChannel) => transport.openSender(`job-1/0.0/${c.id}`, transport.endpoint, { credits: 64 });
    const a = open(input);
    const send = (f: Frame): void => void expect(a.trySend({ ...f, channel: a.channel })).toBe(true);
    send(makeFrame(input.id, 'data', 0, ['a0', 'a1']));
    send(makeFrame(input.id, 'barrier', 2, null, { checkpointId: 1, timestamp: 0, type: 'checkpoint' }));
    send(makeFrame(input.id, 'data', 2, ['a2', 'a3']));
    send(makeFrame(input.id, 'end', 4, null));
    await acked.promise;
    expect(snapshots[0].checkpointId).toBe(1);

    // Stopped, but not ended: it waits for checkpoint 1 to complete (its sinks commit it).
    for (let i = 0; i < 20; i++) await settle();
    expect(finished).toEqual([]);
    expect(task.state).toBe('RUNNING');
    await task.notifyCheckpointComplete(1);
    await running;
    expect(finished).toEqual(['FINISHED']);

    const sent = transport.channels.get(`job-1/0.0/${output.id}`)!.sent;
    expect(sent.flatMap((f) => (f.kind === 'data' ? [...f.records!] : []))).toEqual(['A0', 'A1']);
    // The barrier went out; nothing after it: no end marker (the new tasks carry on).
    expect(sent.map((f) => f.kind)).toEqual(['data', 'data', 'barrier']);
    expect(task.recordsIn).toBe(2);
  });

  it('ends at an aborted checkpoint too, and refuses to retire a source task', async () => {
    const g = graph([collection('a', [], { parallelism: 1 }), node('map', 'map', { parallelism: 1 }), node('sink', 'sink', { parallelism: 1 })], [edge('a', 'map', 'rebalance'), edge('map', 'sink', 'rebalance')]);
    const plan = createPlan(g, 'retire');
    const { services, transport, acked } = recordingServices();
    const taskId = plan.tasks.find((t) => t.id.startsWith('map'))!.id;
    const input = plan.channels.find((c) => c.targetTask === taskId)!;
    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    task.stopAt(1);
    const running = task.run();
    const a = transport.openSender(`job-1/0.0/${input.id}`, transport.endpoint, { credits: 64 });
    expect(a.trySend({ ...makeFrame(input.id, 'barrier', 0, null, { checkpointId: 1, timestamp: 0, type: 'checkpoint' }), channel: a.channel })).toBe(true);
    await acked.promise;
    task.notifyCheckpointAborted(1);
    await running;
    expect(task.state).toBe('FINISHED');

    const source = new Task({ jobId: 'job-1', plan, graph: g, taskId: plan.tasks.find((t) => t.id.startsWith('a'))!.id, attempt: 0 }, recordingServices().services);
    expect(() => source.stopAt(1)).toThrow(/source/);
  });
});
