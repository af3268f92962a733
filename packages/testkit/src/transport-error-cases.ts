// The cases of describeTransport on closed channels and transports, invalid credits and start().
import { TransportError } from '@mobius/interface';
import { expect, it } from 'vitest';
import { collectFrames, frameOf, prng, randomBytes, sendWhenWritable, settle, within } from './helpers.js';
import { type TransportSuiteContext, expectTransportError, thrown } from './transport-suite-context.js';

export function describeErrorCases(ctx: TransportSuiteContext): void {
  const { factory, channel, started, shut, link, roundTrip, timeout, waitMs } = ctx;
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
}
