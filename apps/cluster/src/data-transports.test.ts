import { describe, expect, it } from 'vitest';
import { TransportError, silentLogger } from '@mobius/interface';
import { ZmqTransport } from '@mobius/transport-zeromq';
import { createDataTransport } from './data-transports.js';

const options = { host: '127.0.0.1', logger: silentLogger };
const moduleUrl = (source: string): string => `data:text/javascript,${encodeURIComponent(source)}`;

describe('createDataTransport (--transport)', () => {
  it('gives the ZeroMQ transport by default and by name, without starting it', async () => {
    expect(await createDataTransport(undefined, options)).toBeInstanceOf(ZmqTransport);
    expect(await createDataTransport('zeromq', options)).toBeInstanceOf(ZmqTransport);
  });

  it("imports any other name as a module and calls its createTransport({ host, logger })", async () => {
    const made = (await createDataTransport(moduleUrl('export const createTransport = (o) => ({ kind: "custom", host: o.host, hasLogger: typeof o.logger.info === "function" });'), options)) as unknown;
    expect(made).toEqual({ kind: 'custom', host: '127.0.0.1', hasLogger: true });
  });

  it('is a TransportError naming the module and the shipped transports when it has no createTransport', async () => {
    const error = await createDataTransport(moduleUrl('export const nothing = 1;'), options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((error as TransportError).message).toMatch(/does not export createTransport\(\); shipped transports: zeromq/);
  });
});
