import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MobiusError } from '@mobius/interface';
import { captureJob } from './load-job.js';
import { JobPlanner } from './job-planner.js';
import { JobExitedError, PlanTimeoutError } from './plan-errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

// Each case starts a real child process (through tsx here): generous timeouts for a loaded machine.
describe('JobPlanner', { timeout: 60_000 }, () => {
  it('plans in a child the same graph the job builds in this process, with its own arguments', async () => {
    const planner = new JobPlanner();
    const planned = await planner.plan(fixture('keyed-job.ts'), ['x', 'y']);
    const saved = process.argv;
    process.argv = [process.argv[0], fixture('keyed-job.ts'), 'x', 'y'];
    const here = await captureJob(fixture('keyed-job.ts')).finally(() => (process.argv = saved));
    expect(planned.name).toBe('keyed:x,y');
    expect(planned.name).toBe(here.name);
    expect(planned.graph.config).toEqual(here.graph.config);
    const shape = (g: typeof here.graph): unknown => ({
      nodes: g.nodes.map((n) => [n.id, n.name, n.kind, n.parallelism, n.config, n.chaining, n.language, n.source, n.data?.length]),
      edges: g.edges.map((e) => [e.source, e.target, e.partition.kind, e.partition.explicit, typeof e.partition.keySelector]),
    });
    expect(shape(planned.graph)).toEqual(shape(here.graph));
    expect(planned.graph.nodes[0].data).toHaveLength(4);
    // The functions stayed in the child: what came back only stands for them.
    expect(() => (planned.graph.nodes[1].fn as () => unknown)()).toThrow(/does not run in the coordinator/);
  });

  it('a job that calls process.exit while imported is JOB_EXITED with its exit code and stderr', async () => {
    const error = await failure(new JobPlanner().plan(fixture('exits-at-import.ts')));
    expect(error).toBeInstanceOf(JobExitedError);
    expect((error as JobExitedError).code).toBe('JOB_EXITED');
    expect((error as JobExitedError).exitCode).toBe(2);
    expect((error as Error).message).toContain('exited with code 2');
    expect((error as Error).message).toContain('usage: exits-at-import <input>');
  });

  it('a job that never submits is PLAN_TIMEOUT naming the limit', async () => {
    const error = await failure(new JobPlanner({ timeoutMs: 1500 }).plan(fixture('hangs-at-import.ts')));
    expect(error).toBeInstanceOf(PlanTimeoutError);
    expect((error as PlanTimeoutError).code).toBe('PLAN_TIMEOUT');
    expect((error as Error).message).toContain('job.plan.timeout.ms (1500 ms)');
  });

  it('an endless synchronous loop is PLAN_TIMEOUT, and the child is killed', async () => {
    const planner = new JobPlanner({ timeoutMs: 1500 });
    const error = await failure(planner.plan(fixture('loops-at-import.ts')));
    expect((error as MobiusError).code).toBe('PLAN_TIMEOUT');
    expect(planner.load).toEqual({ running: 0, queued: 0 });
  });

  it('a job that fills the heap beyond the limit is JOB_EXITED, its stderr saying so', async () => {
    const error = await failure(new JobPlanner({ maxHeapMb: 64 }).plan(fixture('allocates-at-import.ts')));
    expect(error).toBeInstanceOf(JobExitedError);
    expect((error as Error).message).toMatch(/heap out of memory|Allocation failed/i);
  });

  it("a job's own exception is the job's message", async () => {
    const error = await failure(new JobPlanner().plan(fixture('throws-at-import.ts'), ['--nope']));
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as Error).message).toBe('bad arguments: --nope');
  });

  it('a module that submits nothing is NO_JOB', async () => {
    const error = await failure(new JobPlanner().plan(fixture('no-job.ts')));
    expect((error as MobiusError).code).toBe('NO_JOB');
  });

  it('plans concurrently: a hanging job delays no other', async () => {
    const planner = new JobPlanner({ timeoutMs: 45_000, concurrency: 2 });
    const hanging = failure(planner.plan(fixture('hangs-at-import.ts')));
    const started = Date.now();
    const planned = await planner.plan(fixture('keyed-job.ts'));
    expect(planned.name).toBe('keyed:');
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(planner.load.running).toBe(1);
    planner.close();
    expect((await hanging) as MobiusError).toBeInstanceOf(JobExitedError);
  });

  it('bounds the queue: past concurrency and queueLimit a plan is PLAN_QUEUE_FULL', async () => {
    const planner = new JobPlanner({ timeoutMs: 45_000, concurrency: 1, queueLimit: 1 });
    const first = failure(planner.plan(fixture('hangs-at-import.ts')));
    const second = failure(planner.plan(fixture('hangs-at-import.ts')));
    const third = await failure(planner.plan(fixture('keyed-job.ts')));
    expect((third as MobiusError).code).toBe('PLAN_QUEUE_FULL');
    expect(planner.load).toEqual({ running: 1, queued: 1 });
    planner.close(); // kills the first; the second then starts
    await first;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (planner.load.queued === 0) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    planner.close();
    await second;
  });

  it('a process that used a planner ends on its own: the spare child started ahead holds nothing open', () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
    const r = spawnSync(process.execPath, ['--import', tsx, fixture('plan-and-leave.ts')], { encoding: 'utf8', timeout: 50_000 });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('planned keyed:left\n');
    expect(r.status).toBe(0);
  });
});
