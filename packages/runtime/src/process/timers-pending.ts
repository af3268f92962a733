import type { TimerService } from '../timers/timer-service.js';

/**
 * The timers pending in one task, per operator id (both domains): the input of the per-task
 * "timers pending" metric. Takes the chain's timer services (`OperatorChain.timers`); reading it
 * costs one Map walk, so it is meant for a metrics scrape, not per record.
 */
export function timersPending(timers: ReadonlyMap<string, TimerService>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [operatorId, t] of timers) out[operatorId] = t.size;
  return out;
}
