import { describe, it, expect } from 'vitest';
import {
  BackpressureError,
  CheckpointError,
  ConfigError,
  InsufficientSlotsError,
  JobFailedError,
  MobiusError,
  PlanError,
  RunnerError,
  StateError,
  TaskFailedError,
  TransportError,
} from './errors.js';
import * as api from './index.js';

describe('MobiusError', () => {
  it('is an Error with a code, a message and its class name', () => {
    const e = new MobiusError('SOME_CODE', 'something broke');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(MobiusError);
    expect(e.code).toBe('SOME_CODE');
    expect(e.message).toBe('something broke');
    expect(e.name).toBe('MobiusError');
    expect(String(e)).toBe('MobiusError: something broke');
    expect(e.stack).toBeTypeOf('string');
  });

  it('keeps a cause', () => {
    const cause = new Error('root');
    expect(new MobiusError('X', 'y', { cause }).cause).toBe(cause);
    expect(new MobiusError('X', 'y').cause).toBeUndefined();
  });
});

describe('every error class', () => {
  const cause = new RangeError('bad index');
  const cases: [MobiusError, string, string, RegExp][] = [
    [new ConfigError('CONFIG_UNKNOWN_KEY', 'a.b', "unknown config key 'a.b'"), 'ConfigError', 'CONFIG_UNKNOWN_KEY', /a\.b/],
    [new ConfigError('CONFIG_INVALID_VALUE', 'a.b', 'bad'), 'ConfigError', 'CONFIG_INVALID_VALUE', /bad/],
    [new ConfigError('CONFIG_WRONG_SCOPE', 'a.b', 'scope'), 'ConfigError', 'CONFIG_WRONG_SCOPE', /scope/],
    [new PlanError('PLAN_CYCLE', 'cycle through "m"', 'm-1'), 'PlanError', 'PLAN_CYCLE', /cycle/],
    [new TaskFailedError('map-1', 'parse', 2, cause), 'TaskFailedError', 'TASK_FAILED', /parse/],
    [new JobFailedError('j1', 'wc', cause), 'JobFailedError', 'JOB_FAILED', /wc/],
    [new RunnerError('no runner registered'), 'RunnerError', 'NO_RUNNER', /no runner/],
    [new InsufficientSlotsError(4, 2), 'InsufficientSlotsError', 'INSUFFICIENT_SLOTS', /4/],
    [new TransportError('TRANSPORT_PEER_LOST', 'peer w2 lost'), 'TransportError', 'TRANSPORT_PEER_LOST', /w2/],
    [new StateError('STATE_CLOSED', 'store closed'), 'StateError', 'STATE_CLOSED', /closed/],
    [new CheckpointError('CHECKPOINT_TIMEOUT', 'checkpoint 7 timed out'), 'CheckpointError', 'CHECKPOINT_TIMEOUT', /7/],
    [new BackpressureError('source ignored backpressure'), 'BackpressureError', 'BACKPRESSURE_IGNORED', /backpressure/],
  ];

  it.each(cases)('%s has name %s and code %s, and is a MobiusError', (e, name, code, message) => {
    expect(e).toBeInstanceOf(MobiusError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe(name);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('are all exported from the package entry', () => {
    for (const C of [
      MobiusError,
      ConfigError,
      PlanError,
      TaskFailedError,
      JobFailedError,
      RunnerError,
      InsufficientSlotsError,
      TransportError,
      StateError,
      CheckpointError,
      BackpressureError,
    ]) {
      expect((api as Record<string, unknown>)[C.name]).toBe(C);
    }
  });

  it('are distinguishable with instanceof', () => {
    const e = new PlanError('PLAN_EMPTY', 'empty');
    expect(e).not.toBeInstanceOf(ConfigError);
    expect(new ConfigError('CONFIG_UNKNOWN_KEY', 'k', 'm')).not.toBeInstanceOf(PlanError);
  });
});

describe('ConfigError', () => {
  it('carries the key', () => {
    const e = new ConfigError('CONFIG_INVALID_VALUE', 'runtime.batch.size', 'too big');
    expect(e.key).toBe('runtime.batch.size');
    expect(e.message).toBe('too big');
  });
});

describe('PlanError', () => {
  it('carries the operator id when given', () => {
    expect(new PlanError('PLAN_NOT_KEYED', 'm', 'reduce-3').operatorId).toBe('reduce-3');
    expect(new PlanError('PLAN_EMPTY', 'm').operatorId).toBeUndefined();
  });
});

describe('TaskFailedError', () => {
  it('names the operator name, id, task index and the cause', () => {
    const cause = new TypeError('cannot read x of undefined');
    const e = new TaskFailedError('map-2', 'parse line', 3, cause);
    expect(e.operatorId).toBe('map-2');
    expect(e.operatorName).toBe('parse line');
    expect(e.taskIndex).toBe(3);
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('"parse line"');
    expect(e.message).toContain('map-2');
    expect(e.message).toContain('#3');
    expect(e.message).toContain('TypeError');
    expect(e.message).toContain('cannot read x of undefined');
  });

  it('describes a thrown non-Error value', () => {
    const e = new TaskFailedError('sink-9', 'out', 0, 'disk full');
    expect(e.message).toContain('disk full');
    expect(e.message).toContain('#0');
    expect(e.cause).toBe('disk full');
    expect(new TaskFailedError('s', 'n', 1, 42).message).toContain('42');
  });
});

describe('JobFailedError', () => {
  it('copies operator and task index from a TaskFailedError cause', () => {
    const task = new TaskFailedError('reduce-4', 'count', 1, new Error('boom'));
    const e = new JobFailedError('job-17', 'word_count', task);
    expect(e.jobId).toBe('job-17');
    expect(e.jobName).toBe('word_count');
    expect(e.operatorId).toBe('reduce-4');
    expect(e.operatorName).toBe('count');
    expect(e.taskIndex).toBe(1);
    expect(e.cause).toBe(task);
    expect(e.message).toContain('"word_count"');
    expect(e.message).toContain('boom');
    expect(e.message).toContain('count');
  });

  it('leaves operator fields undefined for another cause', () => {
    const e = new JobFailedError('job-1', 'wc', new Error('coordinator lost'));
    expect(e.operatorId).toBeUndefined();
    expect(e.operatorName).toBeUndefined();
    expect(e.taskIndex).toBeUndefined();
    expect(e.message).toContain('coordinator lost');
    expect(new JobFailedError('job-2', 'wc', 'cancelled').message).toContain('cancelled');
  });

  it('copies task index 0 (not treated as missing)', () => {
    const e = new JobFailedError('j', 'n', new TaskFailedError('src-0', 'source', 0, new Error('x')));
    expect(e.taskIndex).toBe(0);
  });
});

describe('InsufficientSlotsError', () => {
  it('names both numbers and keeps them', () => {
    const e = new InsufficientSlotsError(12, 5);
    expect(e.required).toBe(12);
    expect(e.available).toBe(5);
    expect(e.message).toContain('12');
    expect(e.message).toContain('5');
    expect(e.message).toMatch(/12 slots.*5 free/);
    expect(e.total).toBeUndefined();
  });

  it('names the total when given: needed, free, then total', () => {
    const e = new InsufficientSlotsError(9, 2, 8);
    expect(e).toMatchObject({ required: 9, available: 2, total: 8 });
    expect(e.message).toBe('job needs 9 slots but the cluster has 2 free of 8');
  });
});

describe('errors with options', () => {
  it('TransportError, StateError and CheckpointError keep a cause', () => {
    const cause = new Error('socket');
    expect(new TransportError('TRANSPORT_FAILED', 'send failed', { cause }).cause).toBe(cause);
    expect(new StateError('STATE_FAILED', 'write failed', { cause }).cause).toBe(cause);
    expect(new CheckpointError('CHECKPOINT_FAILED', 'store failed', { cause }).cause).toBe(cause);
  });
});
