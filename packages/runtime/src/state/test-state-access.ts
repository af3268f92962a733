// Fixtures shared by the keyed-state test files: task state backends and state access over them.
import { MobiusError, type TaskStateBackend } from '@mobius/interface';
import { normalizeKey } from '@mobius/interface';
import { expect } from 'vitest';
import { MemoryStateBackend } from '../memory-state-backend.js';
import { KeyContext } from './key-context.js';
import { stateKeyGroupOf } from './operator-state.js';
import { StateAccess } from './state-access.js';

export const MAX = 128;

export function backend(keyGroups = { start: 0, end: MAX - 1 }, taskIndex = 0): TaskStateBackend {
  return new MemoryStateBackend().create({
    jobId: 'job-1',
    operatorId: 'map-1',
    taskIndex,
    maxParallelism: MAX,
    keyGroups,
    keyGroupOf: stateKeyGroupOf(MAX),
  });
}

export function access(state: TaskStateBackend, keys: KeyContext | undefined, keyGroups = { start: 0, end: MAX - 1 }, reserved: string[] = []): StateAccess {
  return new StateAccess({ operatorId: 'map-1', operatorName: 'counter', keys, keyGroups, backend: () => state, reserved });
}

export function keyedAccess(state = backend()) {
  const keys = new KeyContext('counter');
  return { keys, access: access(state, keys), state, at: (k: unknown) => (keys.currentKey = normalizeKey(k)) };
}

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MobiusError);
    return (e as MobiusError).code;
  }
  return undefined;
}
