import type { ThreadLink } from '@mobius/transport-threads';

/** What a worker's task thread starts with (its `workerData`). */
export interface TaskThreadData {
  readonly index: number;
  /** Its link to the worker's ThreadHub (the thread transport to sibling threads). */
  readonly link: ThreadLink;
  /** What the worker's own data transport is built with (`createDataTransport`). */
  readonly host: string;
  readonly transport?: string;
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
  /** The progress cells the worker's heartbeat thread reads. */
  readonly progress: Int32Array;
}

/** The thread's first message, once its transports are up (or could not start). */
export type TaskThreadStarted = { readonly t: 'started'; readonly endpoint: string; readonly threadEndpoint: string } | { readonly t: 'start-failed'; readonly message: string };

/** The worker's answer: network endpoint → thread endpoint of every task thread; the thread then takes task messages. */
export interface TaskThreadSiblings {
  readonly t: 'siblings';
  readonly siblings: readonly (readonly [string, string])[];
}
