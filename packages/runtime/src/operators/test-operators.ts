// Fixtures shared by the operator test files: identities, a list collector, runtime contexts and keyed stores.
import { TaskFailedError, keyGroupOf, type Collector, type RuntimeContext } from '@mobius/interface';
import { expect } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { TaskRuntimeContext } from '../runtime-context.js';
import { thrown } from '../test-channels.js';
import { type OperatorIdentity } from './operator.js';

export const id = (operatorId: string, taskIndex = 0): OperatorIdentity => ({ operatorId, operatorName: `${operatorId}-name`, taskIndex });

export class ListCollector<T = unknown> implements Collector<T> {
  readonly records: T[] = [];
  collect(record: T): void {
    this.records.push(record);
  }
}

export function ctxFor(identity: OperatorIdentity): RuntimeContext {
  return new TaskRuntimeContext({
    jobId: 'job-1',
    jobName: 'job',
    operatorId: identity.operatorId,
    operatorName: identity.operatorName,
    taskIndex: identity.taskIndex,
    parallelism: 4,
    attempt: 0,
    maxParallelism: 128,
    jobConfig: { 'runtime.batch.size': 16 },
    operatorConfig: { 'runtime.batch.size': 8 },
  });
}

export function failureOf(fn: () => unknown): TaskFailedError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(TaskFailedError);
  return e as TaskFailedError;
}

export function keyedStore<V>(name = 'reduce') {
  const state = new MemoryStateBackend().create({
    jobId: 'job-1',
    operatorId: 'reduce-1',
    taskIndex: 0,
    maxParallelism: 128,
    keyGroups: { start: 0, end: 127 },
    keyGroupOf: (k) => keyGroupOf(k, 128),
  });
  return state.keyed<V>(name);
}
