import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ExecutionPlan } from '@mobius/interface';
import { chooseThreads, setJobSource } from './job-source.js';

const plan = (config: Record<string, string | number>): ExecutionPlan => ({ jobName: 'j', config }) as unknown as ExecutionPlan;

describe('chooseThreads (execution.threads)', () => {
  it('0 keeps every task on the calling thread', () => {
    expect(chooseThreads(plan({ 'execution.threads': 0 }))).toEqual({ threads: 0 });
  });

  it('auto without a module from mobius run stays on the calling thread (a script or test keeps its closures)', () => {
    expect(chooseThreads(plan({}))).toEqual({ threads: 0 });
  });

  it('a number takes the entry script as the module when mobius run named none', () => {
    const choice = chooseThreads(plan({ 'execution.threads': 3 }));
    expect(choice.threads).toBe(3);
    expect(choice.source?.file).toBe(process.argv[1]);
  });

  it('a number with no module to import is a clear error', () => {
    const argv = process.argv;
    process.argv = [argv[0], '/nonexistent/job.js'];
    try {
      expect(() => chooseThreads(plan({ 'execution.threads': 2 }))).toThrow(expect.objectContaining({ code: 'THREADS_NEED_MODULE', message: expect.stringMatching(/mobius run/) }));
    } finally {
      process.argv = argv;
    }
  });

  it('auto under mobius run means a thread per core, importing the module mobius run is running', () => {
    setJobSource('job.ts', ['--flag', 'x']);
    const choice = chooseThreads(plan({}));
    expect(choice.threads).toBe(availableParallelism());
    expect(choice.source).toEqual({ file: expect.stringMatching(/\/job\.ts$/), args: ['--flag', 'x'] });
  });
});
