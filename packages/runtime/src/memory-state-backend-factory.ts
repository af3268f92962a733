import type { StateBackendFactory } from '@mobius/interface';
import { MemoryStateBackend } from './memory-state-backend.js';

/** `state.backend: 'memory'`: keyed state on the heap, full snapshots, no keys of its own. */
export const memoryStateBackendFactory: StateBackendFactory = {
  kind: 'memory',
  options: [],
  create: () => new MemoryStateBackend(),
};
