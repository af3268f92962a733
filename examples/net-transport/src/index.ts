import type { Logger } from '@mobius/interface';
import { NetTransport } from './net-transport.js';

export { NetTransport } from './net-transport.js';
export type { NetTransportOptions, NetTransportStats } from './net-options.js';
export { MAX_MESSAGE_BYTES } from './wire.js';

/** What a Mobius worker passes to a transport plugin's `createTransport`. */
export interface CreateTransportOptions {
  /** Interface to listen on (the worker's `--host`). Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port. Default 0: an ephemeral port. */
  readonly port?: number;
  /** The worker's logger. Default: silent. */
  readonly logger?: Logger;
}

/**
 * The plugin entry point: a worker started with `--transport @mobius/example-transport-net`
 * imports this module and calls `createTransport({ host, logger })`. The transport is returned
 * unstarted; the worker calls `start()`.
 */
export function createTransport(options: CreateTransportOptions = {}): NetTransport {
  return new NetTransport({ host: options.host, port: options.port, logger: options.logger });
}
