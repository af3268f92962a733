import type { Logger } from '@mobius/interface';

/** Events of a control endpoint about its peers. */
export type ControlPeerEvent = 'connected' | 'disconnected';

/** Counters of a control endpoint. */
export interface ControlStats {
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Messages dropped because they were malformed. */
  readonly malformed: number;
}

export interface CommonOptions {
  /** Structured logger. Default: silent. */
  readonly logger?: Logger;
  /** A peer silent for this long counts as disconnected. Default 2000. */
  readonly peerTimeoutMs?: number;
  /** Default timeout of `request()`. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Longest time `close()` waits for queued messages to reach the peer. Default 2000. */
  readonly closeTimeoutMs?: number;
  /** Largest message accepted, in bytes. Default 256 MiB. */
  readonly maxMessageBytes?: number;
}

/** Options of {@link ZmqControlServer}. */
export interface ZmqControlServerOptions extends CommonOptions {
  /** Endpoint to bind, e.g. `tcp://127.0.0.1:6123`. Default `tcp://127.0.0.1:0` (ephemeral port). */
  readonly endpoint?: string;
  /** CurveZMQ server keys: clients must know `publicKey`. */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
}

/** Options of {@link ZmqControlClient}. */
export interface ZmqControlClientOptions extends CommonOptions {
  /** This client's id: its routing id, the `from` the server sees. 1..255 bytes. */
  readonly id: string;
  /** The server's endpoint. */
  readonly serverEndpoint: string;
  /** CurveZMQ client keys and the server's public key. */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string; readonly serverPublicKey: string };
}
