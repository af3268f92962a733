import { TransportError, type Logger } from '@mobius/interface';
import { MAX_MESSAGE_BYTES, parseEndpoint } from './wire.js';

/** Options of {@link NetTransport}. */
export interface NetTransportOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port. Default 0: an ephemeral port, read it from `endpoint` after `start()`. */
  readonly port?: number;
  /** Full endpoint `tcp://host:port` to listen on; overrides `host` and `port`. */
  readonly endpoint?: string;
  /** Host written into `endpoint` when listening on a wildcard address. Default `127.0.0.1`. */
  readonly advertiseHost?: string;
  /** Structured logger. Default: silent. */
  readonly logger?: Logger;
  /** Longest time `close()` waits for queued bytes to reach the peers. Default 2000 ms. */
  readonly closeTimeoutMs?: number;
  /** Largest credit count a sender may announce (bounds what an unopened channel holds). Default 65536. */
  readonly maxCredits?: number;
  /** Largest message (type byte + payload). Default and maximum 64 MiB. */
  readonly maxMessageBytes?: number;
  /** First reconnect delay after a lost connection; doubles up to `reconnectMaxMs`. Default 25 ms. */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay. Default 1000 ms. */
  readonly reconnectMaxMs?: number;
}

/** Counters of one transport since it was made. */
export interface NetTransportStats {
  /** DATA frames accepted into receive queues. */
  readonly framesIn: number;
  /** DATA frames handed to a socket (or queued for one that is connecting). */
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Messages (or byte streams) dropped because they did not follow the protocol. */
  readonly malformed: number;
}

/** The options with their defaults, checked. */
export interface NetSettings {
  readonly host: string;
  readonly port: number;
  readonly advertiseHost: string;
  readonly closeTimeoutMs: number;
  readonly maxCredits: number;
  readonly maxMessageBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

/** Applies the defaults and checks every option; a bad one is a `TransportError` naming it. */
export function settle(options: NetTransportOptions): NetSettings {
  let host = options.host ?? '127.0.0.1';
  let port = options.port ?? 0;
  if (options.endpoint !== undefined) {
    const parsed = parseEndpoint(options.endpoint);
    if (parsed === undefined) throw new TransportError('TRANSPORT_FAILED', `endpoint must be tcp://host:port, got ${String(options.endpoint)}`);
    ({ host, port } = parsed);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TransportError('TRANSPORT_FAILED', `port must be an integer in 0..65535, got ${String(port)}`);
  const wildcard = host === '0.0.0.0' || host === '::' || host === '*';
  const reconnectMinMs = positive(options.reconnectMinMs ?? 25, 'reconnectMinMs');
  return {
    host,
    port,
    advertiseHost: options.advertiseHost ?? (wildcard ? '127.0.0.1' : host),
    closeTimeoutMs: positive(options.closeTimeoutMs ?? 2000, 'closeTimeoutMs'),
    maxCredits: positive(options.maxCredits ?? 65_536, 'maxCredits'),
    maxMessageBytes: Math.min(positive(options.maxMessageBytes ?? MAX_MESSAGE_BYTES, 'maxMessageBytes'), MAX_MESSAGE_BYTES),
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, positive(options.reconnectMaxMs ?? 1000, 'reconnectMaxMs')),
  };
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TransportError('TRANSPORT_FAILED', `${name} must be a positive number, got ${String(value)}`);
  return value;
}
