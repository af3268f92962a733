import { describe, expect, it } from 'vitest';
import { ConfigError, MobiusError } from '@mobius/interface';
import { LevelStateBackend } from '@mobius/state-level';
import { MemoryStateBackend } from '@mobius/runtime';
import { StreamingContext } from './index.js';
import { compactorFor, retainedCheckpoints, stateBackendFor } from './state-backend.js';

function planWith(options: Record<string, string | number>) {
  let builder = StreamingContext.builder();
  for (const [key, value] of Object.entries(options)) builder = builder.option(key, value);
  const ctx = builder.build();
  ctx.fromValues('a', 'b').keyBy((w: string) => w).reduce((a: string, b: string) => a + b).sink(() => undefined);
  return ctx.plan('j');
}

describe('the state backend of an embedded job (state.backend, looked up among the shipped factories)', () => {
  it('memory by default: checkpoint.retained as set, no compaction', () => {
    const plan = planWith({ 'checkpoint.retained': 3 });
    expect(stateBackendFor(plan)).toBeInstanceOf(MemoryStateBackend);
    expect(retainedCheckpoints(plan)).toBe(3);
    expect(compactorFor(plan)).toBeUndefined();
  });

  it("level with its own key: the cache size reaches the backend, a chain's worth of checkpoints is kept, chains are compacted", () => {
    const plan = planWith({ 'state.backend': 'level', 'state.level.cache-entries': 321, 'checkpoint.retained': 3 });
    const backend = stateBackendFor(plan);
    expect(backend).toBeInstanceOf(LevelStateBackend);
    expect((backend as LevelStateBackend).options.cacheEntries).toBe(321);
    expect(retainedCheckpoints(plan)).toBe(11);
    expect(compactorFor(plan)).toBeTypeOf('function');
  });

  it('an unknown kind is a ConfigError at plan time that lists the known kinds', () => {
    let error: unknown;
    try {
      planWith({ 'state.backend': 'rocks' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(MobiusError);
    expect((error as ConfigError).message).toMatch(/'state\.backend'.*known kinds: memory, level/);
  });
});
