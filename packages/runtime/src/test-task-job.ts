// Fixtures shared by the task-*.test.ts files: a planned job deployed as real tasks on a TestTransport.
import { silentLogger, type LogicalGraph, type Logger, type RuntimeContext } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { TestTransport } from './test-channels.js';

export interface Job {
  readonly tasks: Task[];
  readonly transport: TestTransport;
  /** The tasks of the vertex whose head is `headId`, by index. */
  of(headId: string): Task[];
}

export function deploy(g: LogicalGraph, logger: Logger = silentLogger): Job {
  const plan = createPlan(g, 'test-job');
  const transport = new TestTransport();
  const services = { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger };
  const tasks = plan.tasks.map((t) => new Task({ jobId: 'job-1', plan, graph: g, taskId: t.id, attempt: 0 }, services));
  return { tasks, transport, of: (headId) => tasks.filter((t) => t.vertex.id === headId).sort((a, b) => a.planTask.index - b.planTask.index) };
}

/** Runs every task; resolves when all finished (rejects with the first failure). */
export function runAll(job: Job): Promise<void> {
  return Promise.all(job.tasks.map((t) => t.run())).then(() => undefined);
}

/** A rich sink that records [taskIndex, record] pairs (copied per task, so `index` is per task). */
export function indexedSink(into: [number, unknown][]) {
  return {
    index: -1,
    open(ctx: RuntimeContext) {
      this.index = ctx.taskIndex;
    },
    sink(record: unknown) {
      into.push([this.index, record]);
    },
  };
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
export const SMALL = { 'runtime.batch.size': 4, 'runtime.channel.credits': 2 };
