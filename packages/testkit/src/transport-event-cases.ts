// The cases of describeTransport on readable listeners, peer events and malformed input from the network.
import { expect, it } from 'vitest';
import { collectFrames, frameOf, sendWhenWritable, waitFor } from './helpers.js';
import { type TransportSuiteContext } from './transport-suite-context.js';

export function describeEventCases(ctx: TransportSuiteContext): void {
  const { factory, live, started, shut, link, frames, timeout, waitMs } = ctx;
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
}
