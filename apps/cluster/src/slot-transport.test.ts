import { describe, expect, it } from 'vitest';
import { makeFrame, type ChannelReceiver, type Frame } from '@mobius/interface';
import { ThreadHub, ThreadTransport } from '@mobius/transport-threads';
import { ZmqTransport } from '@mobius/transport-zeromq';
import { SlotTransport } from './slot-transport.js';

/** The next frame on `receiver`, waiting for its readable event when none is queued. */
function nextFrame(receiver: ChannelReceiver): Promise<Frame> {
  const ready = receiver.poll();
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise((resolve) => {
    receiver.onReadable(() => {
      const f = receiver.poll();
      if (f !== undefined) resolve(f);
    });
  });
}

describe('SlotTransport', () => {
  it('routes a channel to its own endpoint through memory, to a sibling thread through the rings, and to another process over the network', async () => {
    const hub = new ThreadHub();
    const netA = new ZmqTransport({ host: '127.0.0.1' });
    const netB = new ZmqTransport({ host: '127.0.0.1' });
    const a = new SlotTransport(netA, new ThreadTransport({ link: hub.link(0) }), `slot-test-${process.pid}-a`);
    const b = new SlotTransport(netB, new ThreadTransport({ link: hub.link(1) }), `slot-test-${process.pid}-b`);
    const other = new ZmqTransport({ host: '127.0.0.1' });
    await Promise.all([a.start(), b.start(), other.start()]);
    const siblings = new Map([
      [a.endpoint, a.threadEndpoint],
      [b.endpoint, b.threadEndpoint],
    ]);
    a.setSiblings(siblings);
    b.setSiblings(siblings);
    try {
      expect(a.endpoint).toMatch(/^tcp:\/\//);
      expect(a.threadEndpoint).toMatch(/^thread:\/\//);

      // Its own endpoint: the frame itself, by reference.
      const own = makeFrame('job/e:0->0', 'data', 0, [{ word: 'own' }]);
      const ownIn = a.openReceiver('job/e:0->0', { credits: 4 });
      expect(a.openSender('job/e:0->0', a.endpoint, { credits: 4 }).trySend(own)).toBe(true);
      expect(await nextFrame(ownIn)).toBe(own);

      // A sibling thread, addressed by its network endpoint: a decoded copy, and no socket used.
      const siblingIn = b.openReceiver('job/e:0->1', { credits: 4 });
      expect(a.openSender('job/e:0->1', b.endpoint, { credits: 4 }).trySend(makeFrame('job/e:0->1', 'data', 0, [{ word: 'sibling' }]))).toBe(true);
      expect((await nextFrame(siblingIn)).records).toEqual([{ word: 'sibling' }]);
      expect(netA.stats().framesOut).toBe(0);

      // Another process: over the network.
      const remoteIn = other.openReceiver('job/e:0->2', { credits: 4 });
      const remoteOut = a.openSender('job/e:0->2', other.endpoint, { credits: 4 });
      expect(remoteOut.trySend(makeFrame('job/e:0->2', 'data', 0, [{ word: 'remote' }]))).toBe(true);
      expect((await nextFrame(remoteIn)).records).toEqual([{ word: 'remote' }]);
      expect(netA.stats().framesOut).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
      hub.close();
    }
  });
});
