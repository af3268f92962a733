import { makeFrame, makeWatermarkFrame, type Determinant, type Frame } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { describe, expect, it } from 'vitest';
import { Task } from './task.js';
import { recordingServices } from './test-services.js';
import { collection, edge, graph, node } from './test-graph.js';
import { EVENT_COUNT, type Event, type Fired } from './test-event-count.js';

/*
 * Single-task failover of a task with two inputs and event-time timers: its determinant log
 * holds where its input watermark rose (and where processing-time timers fired), so a new
 * attempt that replays the log fires its timers at the same places and regenerates exactly the
 * output of the first attempt, whatever order its inputs arrive in this time.
 */
function job() {
  const g = graph(
    [
      collection('a', [], { parallelism: 1 }),
      collection('b', [], { parallelism: 1 }),
      node('count', EVENT_COUNT, { parallelism: 1 }),
      node('sink', 'sink', { chaining: false, fn: () => undefined }),
    ],
    [edge('a', 'count', 'key', { keySelector: (e: Event) => e.k }), edge('b', 'count', 'key', { keySelector: (e: Event) => e.k }), edge('count', 'sink')],
    { 'checkpoint.interval.ms': 1_000 },
  );
  return { g, plan: createPlan(g, 'event-time-replay') };
}

const A: Frame[] = [
  makeFrame('', 'data', 0, [{ k: 'x', t: 5 }, { k: 'y', t: 12 }]),
  makeWatermarkFrame('', 2, 10),
  makeFrame('', 'data', 2, [{ k: 'x', t: 15 }]),
  makeWatermarkFrame('', 3, 30),
  makeFrame('', 'end', 3, null),
];
const B: Frame[] = [
  makeFrame('', 'data', 0, [{ k: 'x', t: 8 }]),
  makeWatermarkFrame('', 1, 6),
  makeFrame('', 'data', 1, [{ k: 'y', t: 9 }, { k: 'x', t: 25 }]),
  makeWatermarkFrame('', 3, 20),
  makeFrame('', 'end', 3, null),
];

describe('event time under single-task failover', () => {
  it('a new attempt replaying the determinant log fires its timers where the first attempt did: the same output, record for record', async () => {
    const { g, plan } = job();
    const { services, transport } = recordingServices();
    const replaying = { ...services, replay: true };
    const taskId = plan.tasks.find((t) => t.vertexId === plan.vertices.find((v) => v.operatorIds.includes('count'))!.id)!.id;
    const inputs = plan.channels.filter((c) => c.targetTask === taskId);
    const fromA = inputs.find((c) => c.sourceTask.startsWith('a'))!;
    const fromB = inputs.find((c) => c.sourceTask.startsWith('b'))!;
    const outChannel = plan.channels.find((c) => c.sourceTask === taskId)!;
    const open = (attempt: number, c: typeof fromA) => transport.openSender(`job-1/0.${attempt}/${c.id}`, transport.endpoint, { credits: 64 });
    const output = (attempt: number) => {
      const frames = transport.channels.get(`job-1/${attempt}.${attempt}/${outChannel.id}`)!.sent;
      return {
        records: frames.flatMap((f) => (f.kind === 'data' ? (f.records as Fired[]) : [])),
        determinants: frames.flatMap((f) => f.determinants ?? []),
      };
    };

    // Attempt 0: frames arrive a few at a time, interleaved.
    const first = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 0 }, replaying);
    const running = first.run();
    const a = open(0, fromA);
    const b = open(0, fromB);
    const send = (s: typeof a, f: Frame) => expect(s.trySend({ ...f, channel: s.channel })).toBe(true);
    const turn = () => new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < A.length; i++) {
      send(a, A[i]);
      await turn();
      send(b, B[i]);
      await turn();
    }
    await running;
    const original = output(0);
    const log: Determinant[] = original.determinants;
    // a's watermark 10 comes before b's 6 (no rise), a's 30 before b's 20: the minimum rose to 6, then 20.
    expect(log.filter((d) => d.kind === 'watermark').map((d) => d.value)).toEqual([6, 20]);
    expect(original.records).toHaveLength(6);

    // Attempt 1, from no checkpoint, replays the log: every frame of b arrives before any of a.
    const again = new Task({ jobId: 'job-1', plan, graph: g, taskId, attempt: 1, attempts: { [fromA.sourceTask]: 0, [fromB.sourceTask]: 0 }, determinants: log }, replaying);
    const rerun = again.run();
    const a1 = open(1, fromA);
    const b1 = open(1, fromB);
    for (const f of B) send(b1, f);
    for (const f of A) send(a1, f);
    await rerun;
    expect(again.state).toBe('FINISHED');
    expect(output(1).records).toEqual(original.records);
    // The log went out again at the same positions (downstream copies stay one log).
    expect(output(1).determinants.map((d) => [d.n, d.kind, d.value])).toEqual(log.map((d) => [d.n, d.kind, d.value]));
  });
});
