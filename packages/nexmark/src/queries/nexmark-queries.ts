import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Event } from '../model.js';
import { referenceQ0 } from '../reference/reference-q0.js';
import { referenceQ1 } from '../reference/reference-q1.js';
import { referenceQ2 } from '../reference/reference-q2.js';
import { referenceQ3 } from '../reference/reference-q3.js';
import { q0 } from './q0.js';
import { q1 } from './q1.js';
import { q2 } from './q2.js';
import { q3 } from './q3.js';

/** A query built with the Mobius API and its reference over an array of events. */
export interface NexmarkQuery<R> {
  readonly build: (ctx: StreamingContext, config?: NexmarkConfig) => DataStream<R>;
  readonly reference: (events: readonly Event[]) => R[];
}

/**
 * The queries built so far, by name, for tests and the benchmark to loop over. The windowed
 * queries (q4, q5, q7, q8, q11) have references only until windows and joins exist in the API;
 * each is one more line here then.
 */
export const NEXMARK_QUERIES = Object.freeze({
  q0: query(q0, referenceQ0),
  q1: query(q1, referenceQ1),
  q2: query(q2, referenceQ2),
  q3: query(q3, referenceQ3),
});

function query<R>(build: NexmarkQuery<R>['build'], reference: NexmarkQuery<R>['reference']): NexmarkQuery<R> {
  return { build, reference };
}

export type NexmarkQueryName = keyof typeof NEXMARK_QUERIES;
