import { TransportError, type Logger, type Transport } from '@mobius/interface';
import { ZmqTransport } from '@mobius/transport-zeromq';

/** What a worker gives the data transport it starts. */
export interface DataTransportOptions {
  readonly host: string;
  readonly logger: Logger;
  /** CURVE keys; only the ZeroMQ transport uses them. */
  readonly curve?: { readonly publicKey: string; readonly secretKey: string };
}

/** The data transports `mobius-cluster` ships, by the name `--transport` gives. */
const BUILT_IN: ReadonlyMap<string, (options: DataTransportOptions) => Transport> = new Map([['zeromq', (options: DataTransportOptions) => new ZmqTransport(options)]]);

/**
 * The transport `--transport` names: a shipped one by name (default `zeromq`), else a module
 * that exports `createTransport({ host, logger })`, imported by its specifier or path.
 */
export async function createDataTransport(name: string | undefined, options: DataTransportOptions): Promise<Transport> {
  const builtIn = BUILT_IN.get(name ?? 'zeromq');
  if (builtIn !== undefined) return builtIn(options);
  const mod = (await import(name!)) as { createTransport?: (o: { host: string; logger: Logger }) => Transport };
  if (typeof mod.createTransport !== 'function') {
    throw new TransportError('TRANSPORT_FAILED', `transport module '${name!}' does not export createTransport(); shipped transports: ${[...BUILT_IN.keys()].join(', ')}`);
  }
  return mod.createTransport({ host: options.host, logger: options.logger });
}
