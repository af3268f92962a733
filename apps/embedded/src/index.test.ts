import type { JobHandle, JobRunner, LogicalGraph, SubmitOptions } from '@mobius/interface';
import { describe, expect, it, vi } from 'vitest';
// Importing the package entry registers the embedded runner as the default one.
import { EmbeddedRunner, getDefaultRunner, setDefaultRunner, StreamingContext } from './index.js';

describe("importing 'mobius'", () => {
  it('registers an EmbeddedRunner as the default runner', () => {
    expect(getDefaultRunner()).toBeInstanceOf(EmbeddedRunner);
  });

  it('runs a context built without a runner in this process', async () => {
    const seen: string[] = [];
    const ctx = StreamingContext.builder().build();
    ctx
      .fromValues('a', 'b', 'c')
      .map((s: string) => `${s}!`)
      .sink((s: string) => {
        seen.push(s); // a closure over this test's array: the job ran in this process
      });
    const result = await ctx.execute('default-runner');
    expect(result.state).toBe('FINISHED');
    expect(result.name).toBe('default-runner');
    expect(seen).toEqual(['a!', 'b!', 'c!']);
  });

  it('keeps a default runner that was set before it is imported', async () => {
    const previous = getDefaultRunner();
    const submitted: string[] = [];
    const custom: JobRunner = {
      submit(_graph: LogicalGraph, options: SubmitOptions): Promise<JobHandle> {
        submitted.push(options.name);
        return Promise.reject(new Error('custom runner'));
      },
    };
    try {
      setDefaultRunner(custom);
      vi.resetModules();
      await import('./register-default-runner.js');
      expect(getDefaultRunner()).toBe(custom);

      // And when none is set, a fresh import registers a (new) embedded runner.
      setDefaultRunner(undefined);
      vi.resetModules();
      await import('./register-default-runner.js');
      const { EmbeddedRunner: FreshRunner } = await import('./embedded-runner.js');
      expect(getDefaultRunner()).toBeInstanceOf(FreshRunner);
      expect(getDefaultRunner()).not.toBe(previous);
      expect(submitted).toEqual([]);
    } finally {
      setDefaultRunner(previous);
    }
  });
});
