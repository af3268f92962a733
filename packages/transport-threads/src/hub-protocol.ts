/*
 * Messages between a ThreadTransport and the ThreadHub, over the MessagePort of the thread's
 * link. Only channel set-up and liveness go this way; frames go through the rings.
 */

/** A sender's ring for a channel, on its way to the receiving thread (a SharedArrayBuffer is shared, not copied). */
export interface RingOffer {
  readonly t: 'ring';
  readonly channel: string;
  /** Endpoint of the receiving thread. */
  readonly to: string;
  /** Endpoint of the sending thread. */
  readonly from: string;
  readonly buffer: SharedArrayBuffer;
}

/** From a thread to the hub. `hello`: the transport started; `bye`: it closed. */
export type ToHub = { readonly t: 'hello' } | { readonly t: 'bye' } | RingOffer;

/**
 * From the hub to a thread. `welcome` answers `hello` with the endpoints started so far; `up`
 * and `down`: another thread's transport started, or closed or exited.
 */
export type FromHub =
  | { readonly t: 'welcome'; readonly live: readonly string[] }
  | { readonly t: 'up'; readonly endpoint: string }
  | { readonly t: 'down'; readonly endpoint: string }
  | RingOffer;
