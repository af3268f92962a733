import { PlanError } from '@mobius/interface';
import { expect } from 'vitest';

/** Runs `fn`, expects it to throw a PlanError (with `code`, when given) and returns it; fails the test when it does not throw. */
export function expectPlanError(fn: () => unknown, code?: string): PlanError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    if (code !== undefined) expect((e as PlanError).code).toBe(code);
    return e as PlanError;
  }
  throw new Error('expected the call to throw a PlanError');
}
