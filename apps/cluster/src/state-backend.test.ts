import { describe, expect, it } from 'vitest';
import { ConfigError, registeredConfigKinds } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { StreamingContext } from '@mobius/api';
import { stateBackends } from './state-backend.js';

/** The graph of a small keyed job with the given job options, as a coordinator or worker plans it. */
function graphWith(options: Record<string, string | number>) {
  let builder = StreamingContext.builder();
  for (const [key, value] of Object.entries(options)) builder = builder.option(key, value);
  const ctx = builder.build();
  ctx.fromValues('a', 'b').keyBy((w: string) => w).reduce((a: string, b: string) => a + b).sink(() => undefined);
  return ctx.graph();
}

describe('the state backends mobius-cluster ships', () => {
  it('are memory and level, registered as the kinds of state.backend', () => {
    expect(stateBackends.kinds()).toEqual(['memory', 'level']);
    expect(registeredConfigKinds('state.backend')).toEqual(expect.arrayContaining(['memory', 'level']));
  });

  it("let the coordinator and workers plan a job that sets the level backend's own key", () => {
    const plan = createPlan(graphWith({ 'state.backend': 'level', 'state.level.cache-entries': 500 }), 'j');
    expect(plan.config['state.level.cache-entries']).toBe(500);
    expect(stateBackends.create(plan.config).kind).toBe('level');
    expect(stateBackends.retainedCheckpoints(plan.config)).toBe(11);
    expect(stateBackends.compactor(plan.config)).toBeTypeOf('function');
  });

  it('reject an unknown state.backend at plan time, naming the key and the known kinds', () => {
    let error: unknown;
    try {
      createPlan(graphWith({ 'state.backend': 'rocks' }), 'j');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('state.backend');
    expect((error as ConfigError).message).toContain('known kinds: memory, level');
  });
});
