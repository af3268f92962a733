import type { NexmarkConfig } from './generator-config.js';
import type { Event } from './model.js';
import { NexmarkGenerator } from './nexmark-generator.js';

/**
 * The events of a configuration in stream order, without an engine: what references and tests
 * compare an engine's output against. Unbounded when `count` is Infinity (take what you need).
 */
export function* nexmarkEvents(config: NexmarkConfig = {}): Generator<Event, void, undefined> {
  const generator = new NexmarkGenerator(config);
  const count = generator.config.count;
  for (let k = 0; k < count; k++) yield generator.event(k);
}

/** All events of a bounded configuration, as an array. */
export function generateEvents(config: NexmarkConfig & { readonly count: number }): Event[] {
  const generator = new NexmarkGenerator(config);
  const count = generator.config.count;
  if (count === Infinity) throw new RangeError('generateEvents() needs a finite count');
  const events = new Array<Event>(count);
  for (let k = 0; k < count; k++) events[k] = generator.event(k);
  return events;
}
