import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeFrame } from '@mobius/interface';
import { describeTransport } from '@mobius/testkit';
import { ZmqTransport } from '@mobius/transport-zeromq';
import { LocalFirstTransport } from '@mobius/transport-memory';

let n = 0;
const create = (): LocalFirstTransport => new LocalFirstTransport(new ZmqTransport({ host: '127.0.0.1' }), `local-first-test-${process.pid}-${++n}`);

/** Writes raw bytes (no ZMTP handshake) to a tcp:// endpoint and waits until the connection closes. */
function sendRawTcp(endpoint: string, bytes: Uint8Array): Promise<void> {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (m === null) return Promise.reject(new Error(`not a tcp endpoint: ${endpoint}`));
  return new Promise<void>((resolve) => {
    const socket = connect({ host: m[1], port: Number(m[2]) });
    socket.on('error', () => undefined); // a reset by the peer is fine
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.end(bytes.length > 0 ? Buffer.from(bytes) : Buffer.from([0])));
    socket.resume();
  });
}

// Between two workers the wrapper must behave exactly like any transport, including a peer that
// comes back at its endpoint (a restarted worker) and garbage on its port. A worker's endpoint
// names its port, so the transport that comes back binds the same one.
describeTransport(
  'local-first over zeromq',
  {
    create,
    createAt: (endpoint) => new LocalFirstTransport(new ZmqTransport({ endpoint }), `local-first-test-${process.pid}-${++n}`),
    teardown: (t) => t.close(),
    sendRaw: sendRawTcp,
  },
  { frames: 2000, largeFrameBytes: 1024 * 1024 },
);

describe('LocalFirstTransport', () => {
  it('keeps a channel between two tasks of one worker off the network, frames passed by reference and in order', async () => {
    const remote = new ZmqTransport({ host: '127.0.0.1' });
    const t = new LocalFirstTransport(remote, `local-first-test-${process.pid}-${++n}`);
    await t.start();
    try {
      const receiver = t.openReceiver('job/e:0->0', { credits: 4 });
      const sender = t.openSender('job/e:0->0', t.endpoint, { credits: 4 });
      const records = [{ word: 'a' }, { word: 'b' }];
      const sent = [makeFrame('job/e:0->0', 'data', 0, records), makeFrame('job/e:0->0', 'data', 2, [{ word: 'c' }])];
      for (const f of sent) expect(sender.trySend(f)).toBe(true);
      expect(receiver.poll()).toBe(sent[0]);
      expect(receiver.poll()).toBe(sent[1]);
      expect(receiver.poll()).toBeUndefined();
      expect(remote.stats().framesOut).toBe(0);
      expect(t.kind).toBe('zeromq+local');
    } finally {
      await t.close();
    }
  });

  it('with serialize, a channel between two tasks of one worker carries decoded copies, still off the network', async () => {
    const remote = new ZmqTransport({ host: '127.0.0.1' });
    const t = new LocalFirstTransport(remote, `local-first-test-${process.pid}-${++n}`);
    await t.start();
    try {
      const receiver = t.openReceiver('job/e:2->2', { credits: 4 });
      const sender = t.openSender('job/e:2->2', t.endpoint, { credits: 4, serialize: true });
      const sent = makeFrame('job/e:2->2', 'data', 0, [{ seen: new Set(['a']), at: new Date(3) }]);
      expect(sender.trySend(sent)).toBe(true);
      const got = receiver.poll();
      expect(got).not.toBe(sent);
      expect(got).toStrictEqual(sent);
      expect(() => sender.trySend(makeFrame('job/e:2->2', 'data', 1, [{ f: () => 1 }]))).toThrow(expect.objectContaining({ code: 'RECORD_TYPE_UNSUPPORTED' }));
      expect(remote.stats().framesOut).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('honours credits on the local path', async () => {
    const t = create();
    await t.start();
    try {
      t.openReceiver('job/e:1->1', { credits: 2 });
      const sender = t.openSender('job/e:1->1', t.endpoint, { credits: 2 });
      expect(sender.trySend(makeFrame('job/e:1->1', 'data', 0, [1]))).toBe(true);
      expect(sender.trySend(makeFrame('job/e:1->1', 'data', 1, [2]))).toBe(true);
      expect(sender.trySend(makeFrame('job/e:1->1', 'data', 2, [3]))).toBe(false);
    } finally {
      await t.close();
    }
  });
});
