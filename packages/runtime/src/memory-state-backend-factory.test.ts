import { describe, expect, it } from 'vitest';
import { StateBackendRegistry } from '@mobius/interface';
import { MemoryStateBackend } from './memory-state-backend.js';
import { memoryStateBackendFactory } from './memory-state-backend-factory.js';

describe('memoryStateBackendFactory', () => {
  const registry = new StateBackendRegistry([memoryStateBackendFactory]);

  it("is what state.backend 'memory' (and the default) chooses", () => {
    expect(registry.create({ 'state.backend': 'memory' })).toBeInstanceOf(MemoryStateBackend);
    expect(registry.create({})).toBeInstanceOf(MemoryStateBackend);
  });

  it('keeps checkpoint.retained, compacts nothing and leaves nothing on disk', () => {
    expect(registry.retainedCheckpoints({ 'checkpoint.retained': 1 })).toBe(1);
    expect(registry.compactor({})).toBeUndefined();
    expect(() => registry.dispose({}, 'job')).not.toThrow();
  });
});
