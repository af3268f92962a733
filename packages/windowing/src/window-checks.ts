import { PlanError } from '@mobius/interface';

/** Validation shared by the assigners: every bad argument is a PlanError naming the call and the rule. */

export function positiveMs(call: string, what: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new PlanError('PLAN_INVALID_WINDOW', `${call}: the ${what} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/** Flink's rule: `|offset| < size` (so every window start is well defined). */
export function offsetWithin(call: string, size: number, offset: number): number {
  if (typeof offset !== 'number' || !Number.isFinite(offset) || Math.abs(offset) >= size) {
    throw new PlanError('PLAN_INVALID_WINDOW', `${call}: the offset must satisfy |offset| < size (${size} ms), got ${String(offset)}`);
  }
  return offset;
}

/** The rule: a slide larger than the size would leave records in no window. */
export function slideWithin(call: string, size: number, slide: number): number {
  positiveMs(call, 'slide', slide);
  if (slide > size) throw new PlanError('PLAN_INVALID_WINDOW', `${call}: the slide (${slide} ms) is larger than the size (${size} ms), so some records would fall in no window`);
  return slide;
}
