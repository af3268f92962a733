import { silentLogger, type LogicalGraph, type LogicalNode, type SourceContext, type TaskStateUpdate } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { MemoryStateBackend } from '@mobius/runtime';
import { MemoryTransport } from '@mobius/transport-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptFences } from './attempt-fences.js';
import { JobTaskExecutor, type TaskExecutorOptions } from './task-executor.js';

// Real tasks on real memory transports: each transport stands for one worker of a cluster
// (memory transports of one process reach each other by endpoint, as workers do by address).

/** source-0 (p=1) → sink-1 (p=1), not chained: two tasks. */
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

const values = (xs: readonly number[]): Partial<LogicalNode> => ({ source: { type: 'collection', size: xs.length }, data: xs });
const SOURCE = 'source-0#0';
const SINK = 'sink-1#0';

/** Task state reports, with a wait for one. */
class Reports {
  readonly all: TaskStateUpdate[] = [];
  private readonly waiters: { match: (u: TaskStateUpdate) => boolean; resolve: () => void }[] = [];
  readonly report = (u: TaskStateUpdate): void => {
    this.all.push(u);
    for (const w of [...this.waiters]) if (w.match(u)) w.resolve();
  };
  until(taskId: string, state: TaskStateUpdate['state'], attempt = 0): Promise<void> {
    const match = (u: TaskStateUpdate): boolean => u.taskId === taskId && u.state === state && u.attempt === attempt;
    if (this.all.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

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
function executor(graph: LogicalGraph, transport: MemoryTransport, reports: Reports, extra: Partial<TaskExecutorOptions> = {}): JobTaskExecutor {
  return new JobTaskExecutor({
    jobId: 'job-1',
    plan: createPlan(graph, 'test'),
    graph,
    services: { transport, stateBackend: new MemoryStateBackend(), logger: silentLogger },
    report: reports.report,
    ...extra,
  });
}

describe('JobTaskExecutor: what a worker hosting its tasks through it relies on', () => {
  it('calls onTaskStart before a task reports RUNNING and what it returned once the task ended; onAllEnded once no task is left, running or kept', async () => {
    const out: number[] = [];
    const graph = twoTaskGraph(values([1, 2, 3, 4, 5]), (x) => void out.push(x));
    const t = await worker();
    const reports = new Reports();
    const events: string[] = [];
    const exec = executor(graph, t, reports, {
      report: (u) => {
        events.push(`${u.taskId} ${u.state}`);
        reports.report(u);
      },
      onTaskStart: (task) => {
        events.push(`${task.id} start`);
        return () => events.push(`${task.id} release`);
      },
      onAllEnded: () => events.push('all ended'),
    });
    exec.deploy([{ taskId: SOURCE, attempt: 0 }, { taskId: SINK, attempt: 0 }], { endpoints: { [SOURCE]: t.endpoint, [SINK]: t.endpoint } });
    await exec.idle();
    expect(out).toEqual([1, 2, 3, 4, 5]);
    for (const id of [SOURCE, SINK]) {
      const mine = events.filter((e) => e.startsWith(id));
      expect(mine).toEqual([`${id} start`, `${id} RUNNING`, `${id} FINISHED`, `${id} release`]);
    }
    // Finished tasks are kept for a restarted downstream task's replay: the job stays.
    expect(events).not.toContain('all ended');
    expect(exec.hosted().ended.map((m) => m.taskId).sort()).toEqual([SINK, SOURCE]);
    expect(exec.cancel()).toEqual([]);
    expect(events.filter((e) => e === 'all ended')).toHaveLength(1);
    expect(exec.hosted()).toEqual({ running: [], ended: [] });
  });

  it('cancel: the tasks leave runningMetrics at once, stay hosted until they stopped, and the runs it returns settle once they did', async () => {
    let called!: () => void;
    const sinkCalled = new Promise<void>((resolve) => (called = resolve));
    // A sink whose call never settles: the task stops only because it is cancelled.
    const graph = twoTaskGraph(values([1, 2, 3]), () => {
      called();
      return new Promise(() => undefined);
    });
    const t = await worker();
    const reports = new Reports();
    let allEnded = 0;
    const exec = executor(graph, t, reports, { onAllEnded: () => allEnded++ });
    exec.deploy([{ taskId: SOURCE, attempt: 0 }, { taskId: SINK, attempt: 0 }], { endpoints: { [SOURCE]: t.endpoint, [SINK]: t.endpoint } });
    await sinkCalled;
    await reports.until(SOURCE, 'FINISHED');
    expect(exec.runningMetrics().map((m) => m.taskId)).toEqual([SINK]);

    // A fence below the running attempt cancels nothing.
    expect(exec.cancel({ tasks: [SINK], before: { [SINK]: 0 } })).toEqual([]);
    expect(exec.runningMetrics().map((m) => m.taskId)).toEqual([SINK]);

    const stopping = exec.cancel({ tasks: [SINK] });
    expect(stopping).toHaveLength(1);
    expect(exec.runningMetrics()).toEqual([]);
    expect(exec.hosted().running.map((m) => m.taskId)).toEqual([SINK]);
    await Promise.all(stopping);
    expect(reports.all.filter((u) => u.taskId === SINK).map((u) => u.state)).toEqual(['RUNNING', 'CANCELED']);
    expect(exec.hosted().running).toEqual([]);
    // The finished source is still kept (only the sink was named), so the job stays.
    expect(exec.hosted().ended.map((m) => m.taskId)).toEqual([SOURCE]);
    expect(allEnded).toBe(0);
  });

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
    const reports = new Reports();
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
    await reports.until(SINK, 'FINISHED', 1);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(reports.all.filter((u) => u.taskId === SINK).map((u) => [u.attempt, u.state])).toEqual([
      [0, 'RUNNING'],
      [0, 'CANCELED'],
      [1, 'RUNNING'],
      [1, 'FINISHED'],
    ]);
  });

  it('with fences shared with its host: refuses a deployment the host fenced before the job came, and fences what it cancels', () => {
    const graph = twoTaskGraph(values([1]), () => undefined);
    const fences = new AttemptFences();
    const reports = new Reports();
    // The fence refuses before any task is built or wired: the transport is never used.
    const exec = executor(graph, new MemoryTransport(), reports, { fences });
    fences.cancelled('job-1', { before: { [SINK]: 3 } }, []);
    expect(() => exec.deploy([{ taskId: SINK, attempt: 2 }], {})).toThrow(expect.objectContaining({ code: 'DEPLOY_FENCED' }));
    exec.cancel({ before: { [SINK]: 6 } });
    expect(fences.fencedThrough('job-1')).toBe(5);
    expect(exec.hosted()).toEqual({ running: [], ended: [] });
    expect(reports.all).toEqual([]);
  });
});
