import { JobFailedError, TaskFailedError, type SourceContext } from '@mobius/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deferred, nextTurn, RecordingLogger, rejection } from '../test-fixtures/helpers.js';
import { EmbeddedRunner, StreamingContext } from './index.js';

function contextWith(logger: RecordingLogger): StreamingContext {
  return StreamingContext.builder().runner(new EmbeddedRunner({ logger })).build();
}

const listeners: ((reason: unknown) => void)[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) process.off('unhandledRejection', l);
});

describe('a bounded job', () => {
  it('goes RUNNING then FINISHED and its result names the job, the duration and the task counters', async () => {
    const logger = new RecordingLogger();
    const ctx = contextWith(logger);
    const gate = deferred();
    const sunk: number[] = [];
    // The source waits on a gate, so the job is certainly still running when we look at it.
    ctx
      .source<number>({
        async fetch(c: SourceContext<number>) {
          await gate.promise;
          for (let i = 1; i <= 25; i++) c.collect(i);
          c.end();
        },
      })
      .map((n: number) => n * 2)
      .sink((n: number) => {
        sunk.push(n);
      })
      .name('collect')
      .disableChain(); // a task of its own: its recordsIn counts what crossed the channel

    const job = await ctx.submit('lifecycle');
    expect(job.name).toBe('lifecycle');
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.state).toBe('RUNNING');
    expect(sunk).toEqual([]);

    gate.resolve();
    const result = await job.result();
    expect(job.state).toBe('FINISHED');
    expect(result.state).toBe('FINISHED');
    expect(result.name).toBe('lifecycle');
    expect(result.jobId).toBe(job.id);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.durationMs).toBe(result.endTime - result.startTime);
    expect(sunk).toEqual(Array.from({ length: 25 }, (_, i) => (i + 1) * 2));

    expect(result.tasks.map((t) => t.vertexName).sort()).toEqual(['collect', 'source -> map']);
    const sinkTask = result.tasks.find((t) => t.vertexName === 'collect')!;
    expect(sinkTask.recordsIn).toBe(25);
    const sourceTask = result.tasks.find((t) => t.vertexName === 'source -> map')!;
    expect(sourceTask.recordsOut).toBe(25);
    expect(job.metrics()).toEqual(result.tasks);

    // The job's own lifecycle went to the logger given to the runner.
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'info', msg: 'job started', obj: expect.objectContaining({ jobId: job.id, job: 'lifecycle', tasks: 2 }) }));
    expect(logger.entries).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'job ended', obj: expect.objectContaining({ jobId: job.id, state: 'FINISHED' }) }),
    );
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  it('result() can be called more than once and gives the same result', async () => {
    const ctx = contextWith(new RecordingLogger());
    ctx.fromValues(1, 2, 3).sink(() => {});
    const job = await ctx.submit('twice');
    const first = await job.result();
    const second = await job.result();
    expect(second).toEqual(first);
    expect(first.tasks.reduce((sum, t) => sum + t.recordsIn, 0)).toBe(3);
  });

  it('cancel() after the job finished is harmless: the state and the result stay FINISHED', async () => {
    const ctx = contextWith(new RecordingLogger());
    const records = ctx.fromValues('a', 'b').collectAsync();
    const job = await ctx.submit('done-then-cancel');
    const sunk: string[] = [];
    for await (const s of records) sunk.push(s);
    const result = await job.result();
    await expect(job.cancel()).resolves.toBeUndefined();
    await job.cancel();
    expect(job.state).toBe('FINISHED');
    await expect(job.result()).resolves.toEqual(result);
    expect(result.state).toBe('FINISHED');
    expect(sunk).toEqual(['a', 'b']);
  });
});

describe('cancelling an unbounded job', () => {
  it('cancel() resolves once every task stopped; the state and the result are CANCELED', async () => {
    const logger = new RecordingLogger();
    const ctx = contextWith(logger);
    const firstRecord = deferred();
    let emitted = 0;
    let sunk = 0;
    ctx
      .source<number>({
        fetch(c: SourceContext<number>) {
          c.collect(emitted++); // never ends
        },
      })
      .sink(() => {
        if (++sunk === 1) firstRecord.resolve();
      })
      .disableChain();

    const job = await ctx.submit('forever');
    await firstRecord.promise; // records are flowing
    expect(job.state).toBe('RUNNING');

    await job.cancel();
    expect(job.state).toBe('CANCELED');
    const result = await job.result();
    expect(result.state).toBe('CANCELED');
    expect(result.name).toBe('forever');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.tasks).toHaveLength(2);
    // Nothing is counted twice or lost between the two tasks at the moment they stopped.
    const sinkTask = result.tasks.find((t) => t.vertexName === 'sink')!;
    expect(sinkTask.recordsIn).toBe(sunk);
    expect(sunk).toBeGreaterThan(0);

    // Once cancel() resolved, the source is no longer called.
    const emittedAtCancel = emitted;
    await nextTurn();
    await nextTurn();
    expect(emitted).toBe(emittedAtCancel);
    expect(logger.entries).toContainEqual(expect.objectContaining({ msg: 'job ended', obj: expect.objectContaining({ jobId: job.id, state: 'CANCELED' }) }));
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);

    await job.cancel(); // a second cancel is harmless too
    expect(job.state).toBe('CANCELED');
  });
});

describe('a failing job', () => {
  it('result() rejects with a JobFailedError naming the operator and the task; the state is FAILED and the error is logged', async () => {
    const logger = new RecordingLogger();
    const ctx = contextWith(logger);
    // Parallelism 2: task #0 gets 1, 2 and task #1 gets 3, 4; only task #1 meets the bad record.
    ctx
      .fromValues(1, 2, 3, 4)
      .setParallelism(2)
      .map((n: number) => {
        if (n === 4) throw new RangeError('four is too many');
        return n;
      })
      .name('explode')
      .sink(() => {});

    const job = await ctx.submit('doomed');
    const error = await rejection(job.result());
    expect(error).toBeInstanceOf(JobFailedError);
    const failed = error as JobFailedError;
    expect(failed.code).toBe('JOB_FAILED');
    expect(failed.jobId).toBe(job.id);
    expect(failed.jobName).toBe('doomed');
    expect(failed.operatorName).toBe('explode');
    expect(failed.taskIndex).toBe(1);
    expect(failed.message).toMatch(/^job "doomed" failed: operator "explode" \(.+\) task #1 failed: RangeError: four is too many$/);
    expect(failed.cause).toBeInstanceOf(TaskFailedError);
    expect((failed.cause as TaskFailedError).cause).toBeInstanceOf(RangeError);
    expect(job.state).toBe('FAILED');

    const jobFailed = logger.entries.filter((e) => e.level === 'error' && e.msg === 'job failed');
    expect(jobFailed).toHaveLength(1);
    expect(jobFailed[0].obj).toMatchObject({ jobId: job.id, job: 'doomed', err: failed });
    // The task's own error entry carries the job id through the child logger's bindings.
    expect(logger.entries).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'task failed', obj: expect.objectContaining({ jobId: job.id, operator: 'explode', taskIndex: 1 }) }),
    );
    // cancel() after a failure resolves and leaves the job FAILED.
    await job.cancel();
    expect(job.state).toBe('FAILED');
    await expect(job.result()).rejects.toBe(failed);
  });

  it('a failing source fails the job too', async () => {
    const ctx = contextWith(new RecordingLogger());
    ctx
      .source<number>({
        fetch() {
          throw new Error('source down');
        },
      })
      .name('flaky-source')
      .sink(() => {});
    const job = await ctx.submit('source-fails');
    const error = (await rejection(job.result())) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.operatorName).toBe('flaky-source');
    expect(error.taskIndex).toBe(0);
    expect(error.message).toContain('source down');
    expect(job.state).toBe('FAILED');
  });

  it('is no unhandled rejection when result() is never called', async () => {
    const onUnhandled = vi.fn();
    listeners.push(onUnhandled);
    process.on('unhandledRejection', onUnhandled);

    const logger = new RecordingLogger();
    const ctx = contextWith(logger);
    ctx
      .fromValues('ok', 'bad')
      .map((s: string) => {
        if (s === 'bad') throw new Error('bad record');
        return s;
      })
      .sink(() => {});
    const job = await ctx.submit('ignored-failure');
    // Do not cancel yet: cancel() would attach a handler to the job's promise before it rejects.
    // The "job failed" entry is logged just before the job's promise rejects.
    const logged = await logger.next((e) => e.level === 'error' && e.msg === 'job failed');
    expect(logged.obj.jobId).toBe(job.id);
    // Node reports unhandled rejections once the microtasks of a turn have run: let it.
    await nextTurn();
    await job.cancel(); // awaits completion; harmless after the failure
    await nextTurn();
    expect(job.state).toBe('FAILED');
    expect(onUnhandled).not.toHaveBeenCalled();
  });
});
