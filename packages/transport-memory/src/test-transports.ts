// Fixtures shared by the memory-transport-*.test.ts files: transports closed after each test, frames and error probes.
import {
  TransportError,
  makeFrame,
  type ChannelReceiver,
  type ChannelSender,
  type Frame,
} from '@mobius/interface';
import { expect } from 'vitest';
import { MemoryTransport, createMemoryTransport } from './memory-transport.js';

const open: MemoryTransport[] = [];

/** Closes the transports a test made (an afterEach hook of every test file). */
export async function closeTransports(): Promise<void> {
  while (open.length > 0) await open.pop()!.close();
}

/** A transport closed after the test, so endpoint names can be reused. */
export function transport(name?: string): MemoryTransport {
  const t = createMemoryTransport(name === undefined ? {} : { name });
  open.push(t);
  return t;
}

export async function started(name?: string): Promise<MemoryTransport> {
  const t = transport(name);
  await t.start();
  return t;
}

export const data = (channel: string, seq: number): Frame<number> => makeFrame(channel, 'data', seq, [seq]);

/** Lets every pending promise reaction run (one turn of the event loop; not a timed wait). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

export function expectTransportError(fn: () => unknown, code: string): TransportError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(TransportError);
  expect((e as TransportError).code).toBe(code);
  return e as TransportError;
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** A receiver and a sender of one channel inside one transport. */
export function pair(t: MemoryTransport, channel: string, credits: number): { rx: ChannelReceiver; tx: ChannelSender } {
  const rx = t.openReceiver(channel, { credits });
  const tx = t.openSender(channel, t.endpoint, { credits });
  return { rx, tx };
}
