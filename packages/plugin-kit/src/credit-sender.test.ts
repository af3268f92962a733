import { TransportError, makeFrame, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CreditSender } from './credit-sender.js';

function frame(channel: string, seq: number): Frame {
  return makeFrame(channel, 'data', seq, [seq]);
}

/** A sender whose medium is an array; `failNext` makes one transmit throw. */
class ArraySender extends CreditSender {
  readonly wire: Frame[] = [];
  failNext = false;
  closedCalls = 0;
  announced: number[] = [];
  protected override announce(): void {
    this.announced.push(this.epoch);
  }
  protected override transmit(f: Frame): void {
    if (this.failNext) {
      this.failNext = false;
      throw new TransportError('FRAME_MALFORMED', 'cannot encode');
    }
    this.wire.push(f);
  }
  protected override onClosed(): void {
    this.closedCalls++;
  }
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TransportError ? e.code : 'not a TransportError';
  }
  return undefined;
}

describe('CreditSender', () => {
  it('spends one credit a frame and refuses without sending at zero', () => {
    const s = new ArraySender('c', 3);
    expect([s.trySend(frame('c', 0)), s.trySend(frame('c', 1)), s.trySend(frame('c', 2))]).toEqual([true, true, true]);
    expect(s.credits).toBe(0);
    expect(s.trySend(frame('c', 3))).toBe(false);
    expect(s.wire.map((f) => f.seq)).toEqual([0, 1, 2]);
  });

  it('whenWritable waits for a grant', async () => {
    const s = new ArraySender('c', 1);
    await s.whenWritable(); // a credit is there: resolves at once
    s.trySend(frame('c', 0));
    let writable = false;
    const waiting = s.whenWritable().then(() => (writable = true));
    await Promise.resolve();
    expect(writable).toBe(false);
    expect(s.grant(1)).toBe(true);
    await waiting;
    expect(s.credits).toBe(1);
  });

  it('a grant past the capacity is reported and clamped', () => {
    const s = new ArraySender('c', 2);
    s.trySend(frame('c', 0));
    expect(s.grant(2)).toBe(false);
    expect(s.credits).toBe(2);
  });

  it('reopen restores full credits in a new epoch, announces it and wakes waiters', async () => {
    const s = new ArraySender('c', 2, 7);
    expect(s.epoch).toBe(7);
    s.trySend(frame('c', 0));
    s.trySend(frame('c', 1));
    const waiting = s.whenWritable();
    s.reopen(8);
    await waiting;
    expect(s.credits).toBe(2);
    expect(s.epoch).toBe(8);
    expect(s.announced).toEqual([8]);
  });

  it('close wakes waiters, reads zero credits, runs onClosed once, and later sends throw TRANSPORT_CLOSED', async () => {
    const s = new ArraySender('c', 1);
    s.trySend(frame('c', 0));
    const waiting = s.whenWritable();
    s.close();
    s.closeLocally();
    await waiting;
    expect(s.isClosed).toBe(true);
    expect(s.credits).toBe(0);
    expect(s.closedCalls).toBe(1);
    expect(code(() => s.trySend(frame('c', 1)))).toBe('TRANSPORT_CLOSED');
    expect(s.grant(1)).toBe(true); // ignored
    expect(s.credits).toBe(0);
    await s.whenWritable(); // resolves: a closed channel never blocks
  });

  it('refuses a frame of another channel with FRAME_MALFORMED', () => {
    const s = new ArraySender('c', 1);
    expect(code(() => s.trySend(frame('d', 0)))).toBe('FRAME_MALFORMED');
    expect(s.credits).toBe(1);
  });

  it('a transmit that throws keeps the credit', () => {
    const s = new ArraySender('c', 1);
    s.failNext = true;
    expect(code(() => s.trySend(frame('c', 0)))).toBe('FRAME_MALFORMED');
    expect(s.credits).toBe(1);
    expect(s.trySend(frame('c', 1))).toBe(true);
  });

  it('a credit granted back inside transmit (in-process delivery) is not lost', () => {
    class Loopback extends CreditSender {
      protected override transmit(): void {
        expect(this.grant(1)).toBe(true);
      }
    }
    const s = new Loopback('c', 1);
    for (let i = 0; i < 5; i++) expect(s.trySend(frame('c', i))).toBe(true);
    expect(s.credits).toBe(1);
  });
});
