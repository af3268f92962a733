import { makeFrame, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CreditReceiver } from './credit-receiver.js';
import { CreditReturns } from './credit-returns.js';

function frame(seq: number): Frame {
  return makeFrame('c', 'data', seq, [seq]);
}

/** A receiver wired to a CreditReturns that records every credit message. */
function setup(capacity: number): { rx: CreditReceiver<string>; sent: [string, number, number][]; returns: CreditReturns<string> } {
  const sent: [string, number, number][] = [];
  const returns = new CreditReturns<string>((_r, session, count) => sent.push([session.peer, session.epoch, count]));
  const rx = new CreditReceiver<string>('c', {
    creditDue: (r) => returns.schedule(r),
    receiverClosed: (r) => returns.forget(r),
    listenerFailed: (_r, e) => {
      throw e;
    },
  });
  rx.begin('p', 7, capacity);
  return { rx, sent, returns };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CreditReturns', () => {
  it('sends a quarter of the credits in one message right after the drain', async () => {
    const { rx, sent } = setup(8);
    for (let i = 0; i < 8; i++) rx.deliver(frame(i));
    rx.poll();
    rx.poll(); // 2 of 8 due: a quarter
    rx.poll();
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent).toEqual([['p', 7, 3]]);
  });

  it('sends a smaller remainder on the next event-loop turn', async () => {
    const { rx, sent } = setup(8);
    rx.deliver(frame(0));
    rx.poll();
    await Promise.resolve();
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([['p', 7, 1]]);
  });

  it('sends nothing for a receiver forgotten or closed before the flush', async () => {
    const { rx, sent } = setup(4);
    rx.deliver(frame(0));
    rx.poll();
    rx.close();
    await nextTurn();
    expect(sent).toEqual([]);
  });

  it('flush sends what is due at once, once', () => {
    const { rx, sent, returns } = setup(100);
    rx.deliver(frame(0));
    rx.poll();
    returns.flush();
    returns.flush();
    expect(sent).toEqual([['p', 7, 1]]);
  });
});
