import { makeFrame, type Frame, type PlanChannel } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { Task } from './task.js';
import { recordingServices } from './test-services.js';
import { collection, edge, graph, node } from './test-graph.js';

describe('Task.reconfigure: channels added and removed at a barrier', () => {
  it('keeps running while an input is added and another removed, and an output is swapped, with no record lost or duplicated', async () => {
    const g = graph(
      [
        collection('a', [], { parallelism: 1 }),
        collection('b', [], { parallelism: 1 }),
        node('map', 'map', { parallelism: 1, fn: (x: string) => x.toUpperCase() }),
        node('sink', 'sink', { parallelism: 2 }),
      ],
      [edge('a', 'map', 'rebalance'), edge('b', 'map', 'rebalance'), edge('map', 'sink', 'rebalance')],
      { 'runtime.batch.size': 1 },
    );
    const plan = createPlan(g, 'reconfigure');
    const { services, transport, snapshots, acked } = recordingServices();
    const taskId = plan.tasks.find((t) => t.id.startsWith('map'))!.id;
    const inputs = plan.channels.filter((c) => c.targetTask === taskId);
    const fromA = inputs.find((c) => c.sourceTask.startsWith('a'))!;
    const fromB = inputs.find((c) => c.sourceTask.startsWith('b'))!;
    const outputsPlan = plan.channels.filter((c) => c.sourceTask === taskId).sort((x, y) => (x.targetTask < y.targetTask ? -1 : 1));
    expect(outputsPlan).toHaveLength(2);
    // A third upstream task and a third downstream task, as a rescale would add them.
    const fromC: PlanChannel = { ...fromB, id: `${fromB.edgeId}:c`, sourceTask: 'c#0' };
    const toNew: PlanChannel = { ...outputsPlan[1], id: `${outputsPlan[1].edgeId}:new`, targetTask: outputsPlan[1].targetTask.replace(/#\d+$/, '#2') };

    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    task.reconfigure(1, { addInputs: [fromC], removeInputs: [fromB.id], addOutputs: [toNew], removeOutputs: [outputsPlan[1].id] });
    const running = task.run();
    const open = (c: PlanChannel) => transport.openSender(`job-1/0.0/${c.id}`, transport.endpoint, { credits: 64 });
    const a = open(fromA);
    const b = open(fromB);
    const c = open(fromC);
    const send = (s: ReturnType<typeof open>, f: Frame): void => void expect(s.trySend({ ...f, channel: s.channel })).toBe(true);
    const barrier = { checkpointId: 1, timestamp: 0, type: 'checkpoint' as const };

    send(a, makeFrame(fromA.id, 'data', 0, ['a0', 'a1']));
    send(b, makeFrame(fromB.id, 'data', 0, ['b0']));
    // c's upstream starts early: what it sends waits in its channel until the barrier passed.
    send(c, makeFrame(fromC.id, 'data', 0, ['c0']));
    send(a, makeFrame(fromA.id, 'barrier', 2, null, barrier));
    send(b, makeFrame(fromB.id, 'barrier', 1, null, barrier));
    await acked.promise;
    send(a, makeFrame(fromA.id, 'data', 2, ['a2', 'a3', 'a4']));
    send(c, makeFrame(fromC.id, 'data', 1, ['c1']));
    send(a, makeFrame(fromA.id, 'end', 5, null));
    send(c, makeFrame(fromC.id, 'end', 2, null));
    await running;
    expect(task.state).toBe('FINISHED');

    // The snapshot at the barrier names the channels before the change.
    expect(Object.keys(snapshots[0].inputs).sort()).toEqual([fromA.id, fromB.id].sort());
    expect(Object.keys(snapshots[0].outputs).sort()).toEqual(outputsPlan.map((o) => o.id).sort());

    const sentOn = (planId: string): Frame[] => transport.channels.get(`job-1/0.0/${planId}`)!.sent;
    const records = (frames: Frame[]): unknown[] => frames.flatMap((f) => (f.kind === 'data' ? [...f.records!] : []));
    const all = [...records(sentOn(outputsPlan[0].id)), ...records(sentOn(outputsPlan[1].id)), ...records(sentOn(toNew.id))];
    expect(all.map(String).sort()).toEqual(['A0', 'A1', 'A2', 'A3', 'A4', 'B0', 'C0', 'C1']);
    // The removed output ends right behind the barrier; the added one carries only what came after it.
    const removed = sentOn(outputsPlan[1].id).map((f) => f.kind);
    expect(removed.slice(-2)).toEqual(['barrier', 'end']);
    expect(records(sentOn(toNew.id)).length).toBeGreaterThan(0);
    expect(records(sentOn(toNew.id)).every((r) => ['A2', 'A3', 'A4', 'C0', 'C1'].includes(String(r)))).toBe(true);
    expect(sentOn(toNew.id).some((f) => f.kind === 'barrier')).toBe(false);
    // Sequence numbers of the kept output continue across the change.
    const kept = sentOn(outputsPlan[0].id).filter((f) => f.kind === 'data');
    kept.forEach((f, i) => expect(f.seq).toBe(i === 0 ? 0 : kept[i - 1].seq + kept[i - 1].count));
  });

  it('removes a channel that an earlier change removed and added again (a second rescale of the upstream): the task does not wait for it', async () => {
    const g = graph(
      [collection('a', [], { parallelism: 1 }), node('map', 'map', { parallelism: 1, fn: (x: string) => x }), node('sink', 'sink', { parallelism: 1 })],
      [edge('a', 'map', 'rebalance'), edge('map', 'sink', 'rebalance')],
      { 'runtime.batch.size': 1 },
    );
    const plan = createPlan(g, 'reconfigure-twice');
    const { services, transport, acked } = recordingServices();
    const taskId = plan.tasks.find((t) => t.id.startsWith('map'))!.id;
    const fromA = plan.channels.find((c) => c.targetTask === taskId)!;
    const upstream = fromA.sourceTask;
    const task = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, services);
    // Barrier 1: upstream attempt 1 replaces attempt 0 on the same plan channel; barrier 2: it goes, and nothing replaces it.
    task.reconfigure(1, { removeInputs: [fromA.id], addInputs: [fromA], attempts: { [upstream]: 1 } });
    task.reconfigure(2, { removeInputs: [fromA.id] });
    const running = task.run();
    const open = (attempt: number) => transport.openSender(`job-1/${attempt}.0/${fromA.id}`, transport.endpoint, { credits: 64 });
    const first = open(0);
    const send = (s: ReturnType<typeof open>, f: Frame): void => void expect(s.trySend({ ...f, channel: s.channel })).toBe(true);
    send(first, makeFrame(fromA.id, 'data', 0, ['x']));
    send(first, makeFrame(fromA.id, 'barrier', 1, null, { checkpointId: 1, timestamp: 0, type: 'checkpoint' }));
    await acked.promise;
    const second = open(1);
    send(second, makeFrame(fromA.id, 'data', 0, ['y']));
    send(second, makeFrame(fromA.id, 'barrier', 1, null, { checkpointId: 2, timestamp: 0, type: 'checkpoint' }));
    // With no input left open after barrier 2, the task ends on its own.
    await running;
    expect(task.state).toBe('FINISHED');
  });
});
