import { describe, expect, it } from 'vitest';
import { makeFrame } from '@mobius/interface';
import { describeTransport } from '@mobius/testkit';
import { LocalFirstTransport } from './local-first-transport.js';
import { MemoryTransport } from './memory-transport.js';

let n = 0;
const name = (): string => `local-first-unit-${process.pid}-${++n}`;

// With another memory transport as the remote side, the wrapper must still be a transport.
describeTransport('local-first over memory', { create: () => new LocalFirstTransport(new MemoryTransport({ name: name() }), name()), teardown: (t) => t.close() }, { frames: 500, largeFrameBytes: 64 * 1024 });

describe('LocalFirstTransport routing', () => {
  it('sends to its own endpoint by reference and to any other endpoint through the remote transport', async () => {
    const remoteA = new MemoryTransport({ name: name() });
    const a = new LocalFirstTransport(remoteA, name());
    const b = new LocalFirstTransport(new MemoryTransport({ name: name() }), name());
    await a.start();
    await b.start();
    try {
      const own = a.openReceiver('j/e:0->0', { credits: 4 });
      const frame = makeFrame('j/e:0->0', 'data', 0, [{ w: 'x' }]);
      expect(a.openSender('j/e:0->0', a.endpoint, { credits: 4 }).trySend(frame)).toBe(true);
      expect(own.poll()).toBe(frame);
      const far = b.openReceiver('j/e:0->1', { credits: 4 });
      const got = new Promise<unknown>((resolve) => far.onReadable(() => resolve(far.poll()?.records)));
      expect(a.openSender('j/e:0->1', b.endpoint, { credits: 4 }).trySend(makeFrame('j/e:0->1', 'data', 0, ['y']))).toBe(true);
      expect(await got).toEqual(['y']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
