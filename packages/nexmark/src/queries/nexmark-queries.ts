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
import { referenceQ4 } from '../reference/reference-q4.js';
import { referenceQ5 } from '../reference/reference-q5.js';
import { referenceQ7 } from '../reference/reference-q7.js';
import { referenceQ8 } from '../reference/reference-q8.js';
import { referenceQ11 } from '../reference/reference-q11.js';
import { q4 } from './q4.js';
import { q5 } from './q5.js';
import { q7 } from './q7.js';
import { q8 } from './q8.js';
import { q11 } from './q11.js';

/** A query built with the Mobius API and its reference over an array of events. */
export interface NexmarkQuery<R> {
  readonly build: (ctx: StreamingContext, config?: NexmarkConfig) => DataStream<R>;
  readonly reference: (events: readonly Event[]) => R[];
  /**
   * Set when the output is a changelog of upserts (q4): each row replaces the previous row of its
   * key, so the last row per key is the result to compare with the reference's row of that key.
   */
  readonly upsertKey?: (row: R) => unknown;
}

/**
 * Every query, by name, for tests and the benchmark to loop over. q4's output is a changelog
 * (upserts keyed by category): its last row per category is the reference's row.
 */
export const NEXMARK_QUERIES = Object.freeze({
  q0: query(q0, referenceQ0),
  q1: query(q1, referenceQ1),
  q2: query(q2, referenceQ2),
  q3: query(q3, referenceQ3),
  q4: query(q4, referenceQ4, (row) => row.category),
  q5: query(q5, referenceQ5),
  q7: query(q7, referenceQ7),
  q8: query(q8, referenceQ8),
  q11: query(q11, referenceQ11),
});

function query<R>(build: NexmarkQuery<R>['build'], reference: NexmarkQuery<R>['reference'], upsertKey?: (row: R) => unknown): NexmarkQuery<R> {
  return upsertKey === undefined ? { build, reference } : { build, reference, upsertKey };
}

export type NexmarkQueryName = keyof typeof NEXMARK_QUERIES;
