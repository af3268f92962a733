import { silentLogger, type LogicalGraph, type TaskStateUpdate, type Transport } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { MemoryStateBackend } from '@mobius/runtime';
import { describe, expect, it } from 'vitest';
import { AttemptFences } from './attempt-fences.js';
import { JobTaskExecutor, type TaskExecutorOptions } from './task-executor.js';

// Real tasks, each a source chained to its sink: no channel, so no transport is used (an engine
// package's test imports no transport plugin; integration-tests/src/task-executor-endpoints.test.ts
// runs tasks that talk across transports).
const noChannels = { endpoint: 'memory://unused' } as unknown as Transport;

/** A collection source chained to a sink, both at parallelism 2: tasks `source-0#0` and `source-0#1`. */
function chainedGraph(data: readonly number[], sink: (x: number) => unknown): LogicalGraph {
  const base = { uid: undefined, parallelism: 2, config: {}, language: 'typescript' as const, chaining: true };
  return {
    config: {},
    nodes: [
      { ...base, id: 'source-0', name: 'source', kind: 'source', fn: undefined, source: { type: 'collection', size: data.length }, data },
      { ...base, id: 'sink-1', name: 'sink', kind: 'sink', fn: sink },
    ],
    edges: [{ source: 'source-0', target: 'sink-1', partition: { kind: 'forward', explicit: false } }],
  };
}

const FIRST = 'source-0#0';
const SECOND = 'source-0#1';
const BOTH = [
  { taskId: FIRST, attempt: 0 },
  { taskId: SECOND, attempt: 0 },
];

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

/** An executor as a worker makes one: no endpointOf in its services (deployments bring the endpoints). */
function executor(graph: LogicalGraph, reports: Reports, extra: Partial<TaskExecutorOptions> = {}): JobTaskExecutor {
  return new JobTaskExecutor({
    jobId: 'job-1',
    plan: createPlan(graph, 'test'),
    graph,
    services: { transport: noChannels, stateBackend: new MemoryStateBackend(), logger: silentLogger },
    report: reports.report,
    ...extra,
  });
}

/** A sink whose calls in task `index` never settle (that task stops only when cancelled); `called` resolves at the first such call. */
function sinkBlockingTask(index: number): { sink: unknown; called: Promise<void> } {
  let called!: () => void;
  const first = new Promise<void>((resolve) => (called = resolve));
  const sink = {
    index: -1,
    open(ctx: { taskIndex: number }) {
      this.index = ctx.taskIndex;
    },
    sink(): Promise<void> | undefined {
      if (this.index !== index) return undefined;
      called();
      return new Promise(() => undefined);
    },
  };
  return { sink, called: first };
}

describe('JobTaskExecutor: what a worker hosting its tasks through it relies on', () => {
  it('calls onTaskStart before a task reports RUNNING and what it returned once the task ended; onAllEnded once no task is left, running or kept', async () => {
    const out: number[] = [];
    const graph = chainedGraph([1, 2, 3, 4, 5, 6], (x) => void out.push(x));
    const events: string[] = [];
    const reports = new Reports();
    const exec = executor(graph, reports, {
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
    exec.deploy(BOTH, {});
    await exec.idle();
    expect(out.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const id of [FIRST, SECOND]) {
      expect(events.filter((e) => e.startsWith(id))).toEqual([`${id} start`, `${id} RUNNING`, `${id} FINISHED`, `${id} release`]);
    }
    // Finished tasks are kept for a restarted downstream task's replay: the job stays.
    expect(events).not.toContain('all ended');
    expect(exec.hosted().ended.map((m) => m.taskId)).toEqual([FIRST, SECOND]);
    expect(exec.cancel()).toEqual([]);
    expect(events.filter((e) => e === 'all ended')).toHaveLength(1);
    expect(exec.hosted()).toEqual({ running: [], ended: [] });
  });

  it('cancel: the tasks leave runningMetrics at once, stay hosted until they stopped, and the runs it returns settle once they did', async () => {
    const { sink, called } = sinkBlockingTask(1);
    const graph = chainedGraph([1, 2, 3, 4], sink as (x: number) => unknown);
    const reports = new Reports();
    let allEnded = 0;
    const exec = executor(graph, reports, { onAllEnded: () => allEnded++ });
    exec.deploy(BOTH, {});
    await called;
    await reports.until(FIRST, 'FINISHED');
    expect(exec.runningMetrics().map((m) => m.taskId)).toEqual([SECOND]);

    // A fence at the running attempt cancels nothing.
    expect(exec.cancel({ tasks: [SECOND], before: { [SECOND]: 0 } })).toEqual([]);
    expect(exec.runningMetrics().map((m) => m.taskId)).toEqual([SECOND]);

    const stopping = exec.cancel({ tasks: [SECOND] });
    expect(stopping).toHaveLength(1);
    expect(exec.runningMetrics()).toEqual([]);
    expect(exec.hosted().running.map((m) => m.taskId)).toEqual([SECOND]);
    await Promise.all(stopping);
    expect(reports.all.filter((u) => u.taskId === SECOND).map((u) => u.state)).toEqual(['RUNNING', 'CANCELED']);
    expect(exec.hosted()).toEqual({ running: [], ended: [expect.objectContaining({ taskId: FIRST })] });
    // The finished task is still kept (only the other was named), so the job stays.
    expect(allEnded).toBe(0);
  });

  it('calls onAllEnded when the last running task stops and none is kept', async () => {
    const { sink, called } = sinkBlockingTask(0);
    const reports = new Reports();
    let allEnded = 0;
    const exec = executor(chainedGraph([1, 2], sink as (x: number) => unknown), reports, { onAllEnded: () => allEnded++ });
    exec.deploy([{ taskId: FIRST, attempt: 0 }], {});
    await called;
    const stopping = exec.cancel();
    expect(allEnded).toBe(0);
    await Promise.all(stopping);
    expect(allEnded).toBe(1);
    expect(reports.all.map((u) => u.state)).toEqual(['RUNNING', 'CANCELED']);
  });

  it('with fences shared with its host: refuses a deployment the host fenced before the job came, and fences what it cancels', () => {
    const fences = new AttemptFences();
    const reports = new Reports();
    const exec = executor(chainedGraph([1], () => undefined), reports, { fences });
    fences.cancelled('job-1', { before: { [FIRST]: 3 } }, []);
    expect(() => exec.deploy([{ taskId: FIRST, attempt: 2 }], {})).toThrow(expect.objectContaining({ code: 'DEPLOY_FENCED' }));
    exec.cancel({ before: { [FIRST]: 6 } });
    expect(fences.fencedThrough('job-1')).toBe(5);
    expect(exec.hosted()).toEqual({ running: [], ended: [] });
    expect(reports.all).toEqual([]);
  });
});
