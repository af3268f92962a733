import { silentLogger, type LogicalGraph, type LogicalNode, type SourceContext, type TaskStateUpdate } from '@mobius/interface';
import { JobTaskExecutor } from '@mobius/jobmaster';
import { createPlan } from '@mobius/planner';
import { MemoryStateBackend } from '@mobius/runtime';
import { MemoryTransport } from '@mobius/transport-memory';
import { afterEach, describe, expect, it } from 'vitest';

// How a worker's tasks find their peers (the worker's JobTaskExecutor has no endpointOf of its
// own): real tasks on real memory transports, each transport standing for one worker (memory
// transports of one process reach each other by endpoint, as workers do by address).

/** source-0 (p=1) → sink-1 (p=1), not chained: two tasks, one channel. */
function twoTaskGraph(source: Partial<LogicalNode>, sink: (x: number) => unknown): LogicalGraph {
  const base = { uid: undefined, parallelism: 1, config: {}, language: 'typescript' as const };
  return {
    config: {},
    nodes: [
      { ...base, id: 'source-0', name: 'source', kind: 'source', chaining: true, fn: undefined, ...source },
      { ...base, id: 'sink-1', name: 'sink', kind: 'sink', chaining: false, fn: sink },
    ],
    edges: [{ source: 'source-0', target: 'sink-1', partition: { kind: 'forward', explicit: false } }],
  };
}

const SOURCE = 'source-0#0';
const SINK = 'sink-1#0';

const transports: MemoryTransport[] = [];
async function worker(): Promise<MemoryTransport> {
  const t = new MemoryTransport();
  await t.start();
  transports.push(t);
  return t;
}
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
});

/** An executor as a worker makes one: no endpointOf in its services (deployments bring the endpoints). */
function executor(graph: LogicalGraph, transport: MemoryTransport, reports: TaskStateUpdate[]): JobTaskExecutor {
  return new JobTaskExecutor({
    jobId: 'job-1',
    plan: createPlan(graph, 'test'),
    graph,
    services: { transport, stateBackend: new MemoryStateBackend(), logger: silentLogger },
    report: (u) => void reports.push(u),
  });
}

describe("a worker's tasks and their peers' endpoints", () => {
  it("sends to the endpoints a task's deployment named, and after a rewire to a restarted task's new endpoint", async () => {
    const out: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const source = {
      source: { type: 'function' as const },
      fn: {
        async run(ctx: SourceContext<number>) {
          await gate;
          for (let i = 0; i < 100; i++) await ctx.collect(i);
        },
      },
    };
    const graph = twoTaskGraph(source, (x) => void out.push(x));
    const [a, b, c] = [await worker(), await worker(), await worker()];
    const reports: TaskStateUpdate[] = [];
    const onA = executor(graph, a, reports);
    const onB = executor(graph, b, reports);
    const onC = executor(graph, c, reports);
    const attempts = { [SOURCE]: 0, [SINK]: 0 };
    onB.deploy([{ taskId: SINK, attempt: 0 }], { attempts, endpoints: { [SOURCE]: a.endpoint, [SINK]: b.endpoint } });
    onA.deploy([{ taskId: SOURCE, attempt: 0 }], { attempts, endpoints: { [SOURCE]: a.endpoint, [SINK]: b.endpoint } });
    // The sink moves to worker c before the source sent anything (as a recovery would move it).
    await Promise.all(onB.cancel());
    onC.deploy([{ taskId: SINK, attempt: 1 }], { attempts: { [SOURCE]: 0, [SINK]: 1 }, endpoints: { [SOURCE]: a.endpoint, [SINK]: c.endpoint } });
    onA.rewire({ [SINK]: { attempt: 1, endpoint: c.endpoint } });
    open();
    await onC.idle();
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(reports.filter((u) => u.taskId === SINK).map((u) => [u.attempt, u.state])).toEqual([
      [0, 'RUNNING'],
      [0, 'CANCELED'],
      [1, 'RUNNING'],
      [1, 'FINISHED'],
    ]);
  });

});
