import { TransportError, type Codec, type Logger } from '@mobius/interface';

/** CURVE keys (Z85 strings, as made by {@link generateCurveKeyPair}). */
export interface CurveOptions {
  /** This process's public key. */
  readonly publicKey: string;
  /** This process's secret key: the ROUTER serves with it, the DEALERs authenticate with it. */
  readonly secretKey: string;
  /** Public key of the transports this one sends to. Default: `publicKey` (one key pair for the cluster). */
  readonly serverPublicKey?: string;
}

/** Options of {@link ZmqTransport}. */
export interface ZmqTransportOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port to bind. Default 0: an ephemeral port, read it from `endpoint` after `start()`. */
  readonly port?: number;
  /** Full endpoint to bind (`tcp://host:port` or `ipc:///path`); overrides `host` and `port`. */
  readonly endpoint?: string;
  /** Host written into `endpoint` when bound to a wildcard address (`0.0.0.0`, `*`). Default `127.0.0.1`. */
  readonly advertiseHost?: string;
  /** Frame codec. Default {@link MsgpackCodec}. */
  readonly codec?: Codec;
  /** Structured logger. Default: silent. */
  readonly logger?: Logger;
  /** Encrypts and authenticates the server side of every connection (CurveZMQ). */
  readonly curve?: CurveOptions;
  /** A target endpoint that answers nothing for this long is reported `peer-lost`. Default 2000. */
  readonly peerTimeoutMs?: number;
  /** Longest time `close()` waits for sent frames to reach their peers. Default 2000. */
  readonly closeTimeoutMs?: number;
  /** Largest message accepted from the network, in bytes; bigger ones drop the connection. Default 256 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest credit count a sender may announce (bounds what an unopened channel may hold). Default 65536. */
  readonly maxCredits?: number;
}

/** Counters of one transport since it started. */
export interface ZmqTransportStats {
  /** DATA frames accepted into receive queues. */
  readonly framesIn: number;
  /** DATA frames handed to the network. */
  readonly framesOut: number;
  /** Bytes of every message received (all parts, routing id included). */
  readonly bytesIn: number;
  /** Bytes of every message queued for sending. */
  readonly bytesOut: number;
  /** Messages dropped because they were malformed, truncated, out of protocol or beyond credits. */
  readonly malformed: number;
}

/** The option, checked: a finite positive number, or a `TransportError` naming it. */
export function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TransportError('TRANSPORT_FAILED', `${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
