import { makeFrame } from '@mobius/interface';
import { collectFrames, sendWhenWritable, waitFor } from '@mobius/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCurveKeyPair } from './curve.js';
import { recordingLogger } from './test-support/raw.js';
import type { ZmqTransportOptions } from './zmq-options.js';
import { ZmqTransport } from './zmq-transport.js';

const open: ZmqTransport[] = [];

async function started(options: ZmqTransportOptions = {}): Promise<ZmqTransport> {
  const t = new ZmqTransport(options);
  open.push(t);
  await t.start();
  return t;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('CURVE', () => {
  it('generateCurveKeyPair makes distinct 40-character Z85 keys', () => {
    const a = generateCurveKeyPair();
    const b = generateCurveKeyPair();
    expect(a.publicKey).toHaveLength(40);
    expect(a.secretKey).toHaveLength(40);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(a.secretKey).not.toBe(a.publicKey);
  });

  it('an encrypted pair delivers frames (client and server key pairs)', async () => {
    const server = generateCurveKeyPair();
    const client = generateCurveKeyPair();
    const b = await started({ curve: server });
    const a = await started({ curve: { ...client, serverPublicKey: server.publicKey } });
    const rx = b.openReceiver('secret', { credits: 4 });
    const got = collectFrames(rx, 20);
    const tx = a.openSender('secret', b.endpoint, { credits: 4 });
    for (let i = 0; i < 20; i++) await sendWhenWritable(tx, makeFrame('secret', 'data', i, [{ i, text: 'classified' }]));
    expect((await got).map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('one key pair for the whole cluster: serverPublicKey defaults to publicKey', async () => {
    const cluster = generateCurveKeyPair();
    const a = await started({ curve: cluster });
    const b = await started({ curve: cluster });
    const rx = b.openReceiver('c', { credits: 2 });
    const got = collectFrames(rx, 1);
    a.openSender('c', b.endpoint, { credits: 2 }).trySend(makeFrame('c', 'data', 0, ['hi']));
    expect((await got)[0].records).toEqual(['hi']);
  });

  it('a client with the wrong server key, or without CURVE, gets nothing through', async () => {
    const server = generateCurveKeyPair();
    const b = await started({ curve: server });
    const { logger, errors } = recordingLogger();
    const wrongKey = await started({ curve: { ...generateCurveKeyPair(), serverPublicKey: generateCurveKeyPair().publicKey }, peerTimeoutMs: 300, logger });
    const plain = await started({ peerTimeoutMs: 300 });
    const good = await started({ curve: { ...generateCurveKeyPair(), serverPublicKey: server.publicKey } });
    const rxBad = b.openReceiver('bad', { credits: 2 });
    const rxPlain = b.openReceiver('plain', { credits: 2 });
    let badFrames = 0;
    rxBad.onReadable(() => badFrames++);
    rxPlain.onReadable(() => badFrames++);
    const lost: string[] = [];
    wrongKey.on('peer-lost', (p) => lost.push(`wrong ${p}`));
    plain.on('peer-lost', (p) => lost.push(`plain ${p}`));
    wrongKey.openSender('bad', b.endpoint, { credits: 2 }).trySend(makeFrame('bad', 'data', 0, ['leak']));
    plain.openSender('plain', b.endpoint, { credits: 2 }).trySend(makeFrame('plain', 'data', 0, ['leak']));
    // Both never complete a handshake: they report the peer lost after their timeout.
    await waitFor(() => lost.length === 2, 'both bad clients to give up');
    // A good client sent after them still gets through, so the server was listening all along.
    const rxGood = b.openReceiver('good', { credits: 2 });
    const got = collectFrames(rxGood, 1);
    good.openSender('good', b.endpoint, { credits: 2 }).trySend(makeFrame('good', 'data', 0, ['ok']));
    expect((await got)[0].records).toEqual(['ok']);
    expect(badFrames).toBe(0);
    expect(rxBad.poll()).toBeUndefined();
    expect(rxPlain.poll()).toBeUndefined();
    expect(b.stats().framesIn).toBe(1);
    expect(lost.sort()).toEqual([`plain ${b.endpoint}`, `wrong ${b.endpoint}`]);
    // The client with the wrong key logs its failed handshakes.
    await waitFor(() => errors.length > 0, 'a logged handshake failure');
    expect(errors[0].msg).toContain('CURVE');
  });
});
