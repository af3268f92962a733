import type { ChannelReceiver, ChannelSender, Transport } from '@mobius/interface';
import { afterEach, describe } from 'vitest';
import { collectFrames, frameOf, sendWhenWritable } from './helpers.js';
import { type TransportSuiteContext } from './transport-suite-context.js';
import { describeDeliveryCases } from './transport-delivery-cases.js';
import { describeEventCases } from './transport-event-cases.js';
import { describeErrorCases } from './transport-error-cases.js';

/** How the transport suite makes, and gets rid of, the transports it tests. */
export interface TransportSuiteFactory {
  /** A new transport, started or not: the suite calls `start()` (which must be idempotent). */
  create(): Promise<Transport> | Transport;
  /**
   * A new transport bound at `endpoint`, the endpoint of a transport the suite closed just
   * before. Without it, the peer-reconnected test is skipped.
   */
  createAt?(endpoint: string): Promise<Transport> | Transport;
  /** Closes a transport. Default: `t.close()`. Called once per transport. */
  teardown?(t: Transport): Promise<void>;
  /** Delivers raw garbage to the transport listening at `endpoint`. Without it, the malformed-input test is skipped. */
  sendRaw?(endpoint: string, bytes: Uint8Array): Promise<void>;
}

/** Knobs of the transport suite. */
export interface TransportSuiteOptions {
  /** Size of the records of the large-frame test. Default 8 MiB. */
  readonly largeFrameBytes?: number;
  /** Frames of the in-order test. Default 10,000. */
  readonly frames?: number;
  /** Timeout of each test, ms. Default 30,000. */
  readonly testTimeoutMs?: number;
  /** How long to wait for a frame, a credit or an event, ms. Default 10,000. */
  readonly waitMs?: number;
}

let suiteCounter = 0;

/**
 * Defines a vitest `describe` block with the tests every Mobius transport must pass: ordered
 * delivery, credit-based backpressure, large frames, many channels, a sender opened before its
 * receiver, peer events, malformed input and typed errors on closed channels and transports.
 *
 * ```ts
 * describeTransport('my-transport', { create: () => new MyTransport(), teardown: (t) => t.close() });
 * ```
 */
export function describeTransport(name: string, factory: TransportSuiteFactory, options: TransportSuiteOptions = {}): void {
  const largeFrameBytes = options.largeFrameBytes ?? 8 * 1024 * 1024;
  const frames = options.frames ?? 10_000;
  const timeout = options.testTimeoutMs ?? 30_000;
  const waitMs = options.waitMs ?? 10_000;
  const suite = ++suiteCounter;

  describe(`transport compliance: ${name}`, () => {
    const live: Transport[] = [];
    let channelCounter = 0;
    /** A fresh channel id per use, so tests never see each other's frames. */
    const channel = (label: string): string => `compliance-${suite}-${label}:${++channelCounter}->0`;

    async function started(): Promise<Transport> {
      const t = await factory.create();
      live.push(t);
      await t.start();
      return t;
    }

    async function shut(t: Transport): Promise<void> {
      const i = live.indexOf(t);
      if (i < 0) return;
      live.splice(i, 1);
      await (factory.teardown ? factory.teardown(t) : t.close());
    }

    afterEach(async () => {
      while (live.length > 0) await shut(live[live.length - 1]);
    });

    /** A sender in `a` and its receiver in `b`. */
    function link(a: Transport, b: Transport, label: string, credits: number): { ch: string; tx: ChannelSender; rx: ChannelReceiver } {
      const ch = channel(label);
      const rx = b.openReceiver(ch, { credits });
      const tx = a.openSender(ch, b.endpoint, { credits });
      return { ch, tx, rx };
    }

    /** One frame sent a→b and received: everything sent a→b before it had time to arrive too. */
    async function roundTrip(a: Transport, b: Transport): Promise<void> {
      const { ch, tx, rx } = link(a, b, 'probe', 1);
      const got = collectFrames(rx, 1, waitMs);
      await sendWhenWritable(tx, frameOf(ch, 0, ['probe']), waitMs);
      await got;
    }

    const ctx: TransportSuiteContext = { factory, live, channel, started, shut, link, roundTrip, frames, timeout, waitMs, largeFrameBytes };

    describeDeliveryCases(ctx);

    describeEventCases(ctx);

    describeErrorCases(ctx);
  });
}
