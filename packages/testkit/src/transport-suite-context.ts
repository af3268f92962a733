import { TransportError, type ChannelReceiver, type ChannelSender, type Transport } from '@mobius/interface';
import { expect } from 'vitest';
import type { TransportSuiteFactory } from './describe-transport.js';

/** What the case files of describeTransport share: the suite's factory, transports, channels and knobs. */
export interface TransportSuiteContext {
  readonly factory: TransportSuiteFactory;
  /** A fresh channel id per use, so tests never see each other's frames. */
  readonly channel: (label: string) => string;
  /** The transports shut after the test (a transport made without `started()` joins them). */
  readonly live: Transport[];
  /** A new started transport, shut after the test. */
  readonly started: () => Promise<Transport>;
  readonly shut: (t: Transport) => Promise<void>;
  /** A sender in `a` and its receiver in `b`. */
  readonly link: (a: Transport, b: Transport, label: string, credits: number) => { ch: string; tx: ChannelSender; rx: ChannelReceiver };
  /** One frame sent a→b and received: everything sent a→b before it had time to arrive too. */
  readonly roundTrip: (a: Transport, b: Transport) => Promise<void>;
  readonly frames: number;
  readonly timeout: number;
  readonly waitMs: number;
  readonly largeFrameBytes: number;
}

export function expectTransportError(e: unknown, code?: string): void {
  expect(e, 'expected a TransportError').toBeInstanceOf(TransportError);
  if (code !== undefined) expect((e as TransportError).code).toBe(code);
}

export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
