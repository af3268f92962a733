import { TransportError, makeFrame, type ChannelReceiver, type ChannelSender, type Frame, type Transport } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { collectFrames, frameOf, prng, randomBytes, sendWhenWritable, settle, waitFor, within } from './helpers.js';

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

function expectTransportError(e: unknown, code?: string): void {
  expect(e, 'expected a TransportError').toBeInstanceOf(TransportError);
  if (code !== undefined) expect((e as TransportError).code).toBe(code);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
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

    it(
      `delivers ${frames} frames in order from one transport to another`,
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'order', 16);
        const received = collectFrames(rx, frames, timeout);
        for (let seq = 0; seq < frames; seq++) await sendWhenWritable(tx, frameOf(ch, seq, [seq, `r${seq}`]), waitMs);
        const got = await received;
        const wrong = got.findIndex((f, i) => f.seq !== i || f.channel !== ch || f.kind !== 'data' || f.count !== 2 || f.records?.[0] !== i);
        expect(wrong, wrong < 0 ? '' : `frame #${wrong} is ${JSON.stringify(got[wrong])}`).toBe(-1);
        expect(got[frames - 1].records).toEqual([frames - 1, `r${frames - 1}`]);
        expect(rx.poll()).toBeUndefined();
      },
      timeout,
    );

    it(
      'holds a sender to its credits while the receiver does not poll',
      async () => {
        const a = await started();
        const b = await started();
        const n = 4;
        const { ch, tx, rx } = link(a, b, 'credits', n);
        let readable = 0;
        rx.onReadable(() => readable++);
        expect(tx.credits).toBe(n);
        for (let i = 0; i < n; i++) expect(tx.trySend(frameOf(ch, i, [i])), `frame ${i} within credits`).toBe(true);
        expect(tx.trySend(frameOf(ch, n, [n])), 'a frame beyond the credits').toBe(false);
        expect(tx.credits).toBe(0);
        let writable = false;
        const whenWritable = tx.whenWritable().then(() => {
          writable = true;
        });

        await waitFor(() => readable > 0, 'the first frame to arrive', waitMs);
        // Round trips both ways on other channels: a credit sent without a poll would arrive by now.
        await roundTrip(a, b);
        await roundTrip(b, a);
        await settle();
        expect(writable, 'whenWritable resolved although the receiver never polled').toBe(false);
        expect(tx.trySend(frameOf(ch, n, [n]))).toBe(false);

        expect(rx.poll()?.seq).toBe(0);
        await within(whenWritable, 'whenWritable after one poll', waitMs);
        expect(tx.trySend(frameOf(ch, n, [n])), 'one frame after one poll').toBe(true);
        expect(tx.trySend(frameOf(ch, n + 1, [n + 1])), 'only one').toBe(false);

        const rest = await collectFrames(rx, n, waitMs);
        expect(rest.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
        await roundTrip(a, b);
        expect(rx.poll(), 'nothing beyond the credits was accepted').toBeUndefined();
      },
      timeout,
    );

    it(
      `round-trips one frame of ${(largeFrameBytes / 1048576).toFixed(1)} MiB of records intact`,
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'large', 2);
        const chunk = 64 * 1024;
        const count = Math.max(1, Math.ceil(largeFrameBytes / chunk));
        const records = Array.from({ length: count }, (_, i) => ({ i, text: String.fromCharCode(65 + (i % 26)).repeat(chunk - 7) + `#${String(i).padStart(5, '0')}` }));
        const got = collectFrames(rx, 1, timeout);
        expect(tx.trySend(frameOf(ch, 0, records))).toBe(true);
        const [frame] = await got;
        expect(frame.count).toBe(count);
        expect(frame.records).toHaveLength(count);
        const wrong = (frame.records as typeof records).findIndex((r, i) => r.i !== records[i].i || r.text !== records[i].text);
        expect(wrong, `record #${wrong} differs`).toBe(-1);
      },
      timeout,
    );

    it(
      'delivers 100 channels at once, interleaved, each in order',
      async () => {
        const a = await started();
        const b = await started();
        const channels = 100;
        const perChannel = 10;
        const links = Array.from({ length: channels }, (_, i) => link(a, b, `many-${i}`, 4));
        const received = links.map(({ rx }) => collectFrames(rx, perChannel, timeout));
        for (let k = 0; k < perChannel; k++) {
          for (let i = 0; i < channels; i++) await sendWhenWritable(links[i].tx, frameOf(links[i].ch, k, [i * 1000 + k]), waitMs);
        }
        const got = await Promise.all(received);
        got.forEach((list, i) => {
          expect(list.map((f) => [f.channel, f.seq, f.records?.[0]])).toEqual(Array.from({ length: perChannel }, (_, k) => [links[i].ch, k, i * 1000 + k]));
        });
      },
      timeout,
    );

    it(
      'delivers the frames of a sender opened before its receiver',
      async () => {
        const a = await started();
        const b = await started();
        const ch = channel('sender-first');
        const tx = a.openSender(ch, b.endpoint, { credits: 4 });
        for (let i = 0; i < 3; i++) expect(tx.trySend(frameOf(ch, i, [i]))).toBe(true);
        await roundTrip(a, b); // the frames reached b before any receiver exists there
        const rx = b.openReceiver(ch, { credits: 4 });
        const first = await collectFrames(rx, 3, waitMs);
        expect(first.map((f) => f.seq)).toEqual([0, 1, 2]);
        const more = collectFrames(rx, 6, waitMs);
        for (let i = 3; i < 9; i++) await sendWhenWritable(tx, frameOf(ch, i, [i]), waitMs);
        expect((await more).map((f) => f.seq)).toEqual([3, 4, 5, 6, 7, 8]);
      },
      timeout,
    );

    it(
      'carries every frame kind unchanged',
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'kinds', 8);
        const sent: Frame[] = [
          makeFrame(ch, 'data', 0, ['x', { nested: [1, 2.5, null, true] }, -3]),
          makeFrame(ch, 'barrier', 3, null, { checkpointId: 7, timestamp: 1_700_000_000_000, type: 'checkpoint' }),
          makeFrame(ch, 'watermark', 3, null, null, 123_456),
          makeFrame(ch, 'determinants', 3, null, null, null, [
            { n: 7, kind: 'order', input: 0, count: 2, value: 0 },
            { n: 8, kind: 'order', input: 1, count: 5, value: 0 },
          ]),
          makeFrame(ch, 'barrier', 3, null, { checkpointId: 8, timestamp: 5, type: 'savepoint' }),
          makeFrame(ch, 'end', 3, null),
        ];
        const got = collectFrames(rx, sent.length, waitMs);
        for (const f of sent) await sendWhenWritable(tx, f, waitMs);
        expect(await got).toEqual(sent);
      },
      timeout,
    );

    it(
      'keeps frames sent before sender.close() readable',
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'sender-close', 4);
        const got = collectFrames(rx, 3, waitMs);
        for (let i = 0; i < 3; i++) expect(tx.trySend(frameOf(ch, i, [i]))).toBe(true);
        tx.close();
        expect((await got).map((f) => f.seq)).toEqual([0, 1, 2]);
      },
      timeout,
    );

    it(
      'calls a readable listener at once when frames are already queued, and one listener replaces another',
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'readable', 4);
        let first = 0;
        rx.onReadable(() => first++);
        expect(tx.trySend(frameOf(ch, 0, [0]))).toBe(true);
        await waitFor(() => first > 0, 'the readable listener', waitMs);
        let second = 0;
        rx.onReadable(() => second++);
        expect(second, 'listener registered while frames are queued').toBe(1);
        const before = first;
        expect(rx.poll()?.seq).toBe(0);
        expect(rx.poll()).toBeUndefined();
        expect(tx.trySend(frameOf(ch, 1, [1]))).toBe(true);
        await waitFor(() => second > 1, 'the new listener', waitMs);
        expect(first, 'the replaced listener is not called').toBe(before);
        expect(rx.poll()?.seq).toBe(1);
      },
      timeout,
    );

    it(
      "emits 'peer-lost' when the receiving transport closes",
      async () => {
        const a = await started();
        const b = await started();
        const lost: string[] = [];
        a.on('peer-lost', (p) => lost.push(p));
        const { ch, tx, rx } = link(a, b, 'lost', 4);
        const got = collectFrames(rx, 1, waitMs);
        expect(tx.trySend(frameOf(ch, 0, [0]))).toBe(true);
        await got;
        const endpoint = b.endpoint;
        await shut(b);
        await waitFor(() => lost.includes(endpoint), `'peer-lost' for ${endpoint}`, waitMs);
      },
      timeout,
    );

    it(
      "emits 'peer-reconnected' when a transport comes back at the same endpoint",
      async (ctx) => {
        const createAt = factory.createAt;
        if (createAt === undefined) {
          ctx.skip('the factory has no createAt(endpoint): this transport cannot come back at the same endpoint');
          return;
        }
        const a = await started();
        const b = await started();
        const lost: string[] = [];
        const back: string[] = [];
        a.on('peer-lost', (p) => lost.push(p));
        a.on('peer-reconnected', (p) => back.push(p));
        const first = link(a, b, 'reconnect-before', 4);
        const got = collectFrames(first.rx, 1, waitMs);
        expect(first.tx.trySend(frameOf(first.ch, 0, [0]))).toBe(true);
        await got;
        const endpoint = b.endpoint;
        await shut(b);
        await waitFor(() => lost.includes(endpoint), `'peer-lost' for ${endpoint}`, waitMs);

        const b2 = await createAt(endpoint);
        live.push(b2);
        await b2.start();
        expect(b2.endpoint).toBe(endpoint);
        await waitFor(() => back.includes(endpoint), `'peer-reconnected' for ${endpoint}`, waitMs);
        const second = link(a, b2, 'reconnect-after', 4);
        const again = collectFrames(second.rx, 3, waitMs);
        for (let i = 0; i < 3; i++) await sendWhenWritable(second.tx, frameOf(second.ch, i, [i]), waitMs);
        expect((await again).map((f) => f.seq)).toEqual([0, 1, 2]);
      },
      timeout,
    );

    it(
      'drops malformed input from the network and keeps working',
      async (ctx) => {
        const sendRaw = factory.sendRaw;
        if (sendRaw === undefined) {
          ctx.skip('the factory has no sendRaw(endpoint, bytes): this transport takes no bytes from a network');
          return;
        }
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'malformed', 4);
        const first = collectFrames(rx, 2, waitMs);
        for (let i = 0; i < 2; i++) await sendWhenWritable(tx, frameOf(ch, i, [i]), waitMs);
        await first;

        const random = prng(0x6d6f6269);
        const garbage = [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0xff]), randomBytes(random, 7), randomBytes(random, 64), randomBytes(random, 4096)];
        for (const bytes of garbage) await sendRaw(b.endpoint, bytes);

        const later = collectFrames(rx, 20, waitMs);
        for (let i = 2; i < 22; i++) await sendWhenWritable(tx, frameOf(ch, i, [i]), waitMs);
        expect((await later).map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
        // Fresh channels and connections still work too.
        await roundTrip(a, b);
        await roundTrip(b, a);
      },
      timeout,
    );

    it(
      'a closed transport refuses new channels with TransportError TRANSPORT_CLOSED and wakes its readers',
      async () => {
        const a = await started();
        const b = await started();
        const { rx } = link(a, b, 'closed-transport', 2);
        let woken = 0;
        rx.onReadable(() => woken++);
        await shut(b);
        expect(woken, 'the readable listener runs when the transport closes').toBeGreaterThan(0);
        expect(rx.poll()).toBeUndefined();
        expectTransportError(
          thrown(() => b.openReceiver(channel('after-close'), { credits: 2 })),
          'TRANSPORT_CLOSED',
        );
        expectTransportError(
          thrown(() => b.openSender(channel('after-close'), a.endpoint, { credits: 2 })),
          'TRANSPORT_CLOSED',
        );
      },
      timeout,
    );

    it(
      'a sender whose receiver closed gets TransportError TRANSPORT_CLOSED',
      async () => {
        const a = await started();
        const b = await started();
        const { ch, tx, rx } = link(a, b, 'closed-channel', 2);
        const got = collectFrames(rx, 1, waitMs);
        expect(tx.trySend(frameOf(ch, 0, [0]))).toBe(true);
        await got;
        rx.close();
        expect(rx.poll()).toBeUndefined();
        let error: unknown;
        const deadline = Date.now() + waitMs;
        for (let seq = 1; error === undefined; seq++) {
          if (Date.now() > deadline) throw new Error(`trySend did not fail within ${waitMs} ms after the receiver closed`);
          try {
            if (!tx.trySend(frameOf(ch, seq, [seq]))) await within(tx.whenWritable(), 'whenWritable after the receiver closed', waitMs);
            else await settle();
          } catch (e) {
            error = e;
          }
        }
        expectTransportError(error, 'TRANSPORT_CLOSED');
        expect(tx.credits).toBe(0);
        await within(tx.whenWritable(), 'whenWritable on a closed channel', waitMs);
      },
      timeout,
    );

    it(
      'rejects invalid credits with a TransportError',
      async () => {
        const a = await started();
        for (const credits of [0, -1, 1.5, Number.NaN]) {
          expectTransportError(thrown(() => a.openReceiver(channel('bad-credits'), { credits })));
          expectTransportError(thrown(() => a.openSender(channel('bad-credits'), a.endpoint, { credits })));
        }
      },
      timeout,
    );

    it(
      'start() twice is harmless and the endpoint is a string',
      async () => {
        const a = await started();
        await a.start();
        expect(typeof a.kind).toBe('string');
        expect(typeof a.endpoint).toBe('string');
        expect(a.endpoint.length).toBeGreaterThan(0);
        const { ch, tx, rx } = link(a, a, 'self', 2);
        const got = collectFrames(rx, 1, waitMs);
        expect(tx.trySend(frameOf(ch, 0, ['to myself']))).toBe(true);
        expect((await got)[0].records).toEqual(['to myself']);
      },
      timeout,
    );
  });
}
