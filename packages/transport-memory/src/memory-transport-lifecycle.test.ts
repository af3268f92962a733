import { TransportError } from '@mobius/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryTransport } from './memory-transport.js';
import { closeTransports, transport, started, data, expectTransportError, rejection, pair } from './test-transports.js';

afterEach(closeTransports);

describe('MemoryTransport: lifecycle and endpoints', () => {
  it('is reachable at memory://<name>', () => {
    const t = transport('lifecycle-name');
    expect(t.kind).toBe('memory');
    expect(t.endpoint).toBe('memory://lifecycle-name');
    expect(new MemoryTransport({ name: 'x' }).endpoint).toBe('memory://x');
  });

  it('gets a unique endpoint when no name is given', () => {
    const a = transport();
    const b = transport();
    expect(a.endpoint).toMatch(/^memory:\/\/.+/);
    expect(a.endpoint).not.toBe(b.endpoint);
  });

  it('requires start() before opening channels', async () => {
    const t = transport('not-started');
    const e = expectTransportError(() => t.openReceiver('c', { credits: 2 }), 'TRANSPORT_FAILED');
    expect(e.message).toContain('start()');
    expectTransportError(() => t.openSender('c', t.endpoint, { credits: 2 }), 'TRANSPORT_FAILED');
    await t.start();
    expect(() => t.openReceiver('c', { credits: 2 })).not.toThrow();
  });

  it('start() twice is harmless', async () => {
    const t = await started('twice');
    await t.start();
    const { rx, tx } = pair(t, 'c', 2);
    expect(tx.trySend(data('c', 0))).toBe(true);
    expect(rx.poll()?.seq).toBe(0);
  });

  it('a duplicate endpoint name fails to start and leaves the first transport working', async () => {
    const first = await started('dup');
    const lost: string[] = [];
    const watcher = await started('dup-watcher');
    watcher.on('peer-lost', (p) => lost.push(p));
    const tx = watcher.openSender('c', 'memory://dup', { credits: 2 });
    const rx = first.openReceiver('c', { credits: 2 });

    const second = transport('dup');
    const e = await rejection(second.start());
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((e as TransportError).message).toContain('memory://dup');
    expectTransportError(() => second.openReceiver('c', { credits: 2 }), 'TRANSPORT_FAILED');

    // Closing the transport that never started neither unregisters nor reports the live one.
    await second.close();
    expect(lost).toEqual([]);
    expect(tx.trySend(data('c', 1))).toBe(true);
    expect(rx.poll()?.seq).toBe(1);
    expect(() => watcher.openSender('c2', 'memory://dup', { credits: 2 })).not.toThrow();
  });

  it('a closed transport cannot be started again nor open channels', async () => {
    const t = await started('closed-t');
    await t.close();
    expectTransportError(() => t.openReceiver('c', { credits: 2 }), 'TRANSPORT_CLOSED');
    expectTransportError(() => t.openSender('c', t.endpoint, { credits: 2 }), 'TRANSPORT_CLOSED');
    expect(await rejection(t.start())).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    const never = transport('closed-before-start');
    await never.close();
    const e = await rejection(never.start());
    expect(e).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    // The name was not taken by the closed transport.
    await expect(started('closed-before-start')).resolves.toBeInstanceOf(MemoryTransport);
  });

  it('openSender to an unknown endpoint throws TRANSPORT_PEER_LOST', async () => {
    const t = await started('lonely');
    const e = expectTransportError(() => t.openSender('c', 'memory://nobody-here', { credits: 2 }), 'TRANSPORT_PEER_LOST');
    expect(e.message).toContain('memory://nobody-here');
  });

  it('openSender to a closed transport throws TRANSPORT_PEER_LOST', async () => {
    const a = await started('sender-side');
    const b = await started('gone');
    await b.close();
    expectTransportError(() => a.openSender('c', 'memory://gone', { credits: 2 }), 'TRANSPORT_PEER_LOST');
  });

  it.each([0, -1, 1.5, Number.NaN])('credits %s is rejected with a TransportError', async (credits) => {
    const t = await started(`bad-credits`);
    const e = expectTransportError(() => t.openReceiver('c', { credits }), 'TRANSPORT_FAILED');
    expect(e.message).toContain('credits');
    expectTransportError(() => t.openSender('c2', t.endpoint, { credits }), 'TRANSPORT_FAILED');
  });
});

describe('MemoryTransport: closing', () => {
  it('trySend on a channel whose receiver closed throws TRANSPORT_CLOSED', async () => {
    const t = await started('closed-channel');
    const { rx, tx } = pair(t, 'c', 4);
    tx.trySend(data('c', 0));
    rx.close();
    expect(tx.credits).toBe(0);
    const e = expectTransportError(() => tx.trySend(data('c', 1)), 'TRANSPORT_CLOSED');
    expect(e.message).toContain('c');
    expect(rx.poll()).toBeUndefined();
  });

  it('a channel id can be opened again after its receiver closed', async () => {
    const t = await started('reopen');
    const first = pair(t, 'c', 2);
    first.rx.close();
    const second = pair(t, 'c', 2);
    expect(second.tx.trySend(data('c', 1))).toBe(true);
    expect(second.rx.poll()?.seq).toBe(1);
    expectTransportError(() => first.tx.trySend(data('c', 2)), 'TRANSPORT_CLOSED');
  });

  it('closing a transport closes its channels and wakes their readers', async () => {
    const a = await started('close-a');
    const b = await started('close-b');
    const rx = b.openReceiver('c', { credits: 2 });
    const tx = a.openSender('c', b.endpoint, { credits: 2 });
    let woken = 0;
    rx.onReadable(() => woken++);
    await b.close();
    expect(woken).toBe(1);
    expect(rx.poll()).toBeUndefined();
    expectTransportError(() => tx.trySend(data('c', 0)), 'TRANSPORT_CLOSED');
  });

  it("emits 'peer-lost' on transports that had senders to it, then 'peer-reconnected' when one starts again", async () => {
    const a = await started('peer-a');
    const c = await started('peer-c');
    const b = await started('peer-b');
    const events: string[] = [];
    a.on('peer-lost', (p) => events.push(`a lost ${p}`));
    a.on('peer-reconnected', (p) => events.push(`a reconnected ${p}`));
    c.on('peer-lost', (p) => events.push(`c lost ${p}`));
    b.openReceiver('c', { credits: 2 });
    a.openSender('c', 'memory://peer-b', { credits: 2 });

    await b.close();
    expect(events).toEqual(['a lost memory://peer-b']);
    await b.close();
    expect(events).toHaveLength(1);

    const b2 = await started('peer-b');
    expect(events).toEqual(['a lost memory://peer-b', 'a reconnected memory://peer-b']);
    const rx = b2.openReceiver('c', { credits: 2 });
    const tx = a.openSender('c', 'memory://peer-b', { credits: 2 });
    expect(tx.trySend(data('c', 0))).toBe(true);
    expect(rx.poll()?.seq).toBe(0);
  });

  it('every listener of an event is called', async () => {
    const a = await started('listeners-a');
    const b = await started('listeners-b');
    a.openSender('c', b.endpoint, { credits: 1 });
    const seen: string[] = [];
    a.on('peer-lost', (p) => seen.push(`1:${p}`));
    a.on('peer-lost', (p) => seen.push(`2:${p}`));
    await b.close();
    expect(seen).toEqual(['1:memory://listeners-b', '2:memory://listeners-b']);
  });
});
