import { makeFrame, type Frame } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CreditReceiver, type CreditReceiverHost, type CreditSession } from './credit-receiver.js';

function frame(seq: number): Frame {
  return makeFrame('c', 'data', seq, [seq]);
}

/** A host that records what the receiver asks of it. */
class RecordingHost implements CreditReceiverHost<string> {
  due = 0;
  closed: (CreditSession<string> | undefined)[] = [];
  failures: unknown[] = [];
  creditDue(): void {
    this.due++;
  }
  receiverClosed(_r: CreditReceiver<string>, session: CreditSession<string> | undefined): void {
    this.closed.push(session);
  }
  listenerFailed(_r: CreditReceiver<string>, err: unknown): void {
    this.failures.push(err);
  }
}

function setup(capacity = 4): { host: RecordingHost; rx: CreditReceiver<string> } {
  const host = new RecordingHost();
  const rx = new CreditReceiver<string>('c', host);
  rx.begin('peer-a', 1, capacity);
  return { host, rx };
}

describe('CreditReceiver', () => {
  it('polls in order and owes one credit per polled frame of the session', () => {
    const { host, rx } = setup();
    rx.deliver(frame(0));
    rx.deliver(frame(1));
    expect(rx.session!.outstanding).toBe(2);
    expect(rx.poll()!.seq).toBe(0);
    expect(rx.poll()!.seq).toBe(1);
    expect(rx.poll()).toBeUndefined();
    expect(host.due).toBe(2);
    expect(rx.takeCredit()).toBe(2);
    expect(rx.takeCredit()).toBe(0);
  });

  it('is full when the session has as many frames queued as credits', () => {
    const { rx } = setup(2);
    rx.deliver(frame(0));
    expect(rx.full).toBe(false);
    rx.deliver(frame(1));
    expect(rx.full).toBe(true);
    rx.poll();
    expect(rx.full).toBe(false);
  });

  it('frames of an earlier session stay readable but return no credit', () => {
    const { host, rx } = setup();
    rx.deliver(frame(0));
    rx.deliver(frame(1));
    const second = rx.begin('peer-b', 2, 4);
    rx.deliver(frame(2));
    expect(rx.poll()!.seq).toBe(0);
    expect(rx.poll()!.seq).toBe(1);
    expect(host.due).toBe(0);
    expect(rx.poll()!.seq).toBe(2);
    expect(host.due).toBe(1);
    expect(second.pendingCredit).toBe(1);
  });

  it('detach ends the session: its frames become stale', () => {
    const { host, rx } = setup();
    rx.deliver(frame(0));
    expect(rx.detach()?.peer).toBe('peer-a');
    expect(rx.session).toBeUndefined();
    expect(rx.poll()!.seq).toBe(0);
    expect(host.due).toBe(0);
  });

  it('refund owes a credit for a frame that never reached the queue', () => {
    const { host, rx } = setup();
    rx.refund();
    expect(host.due).toBe(1);
    expect(rx.takeCredit()).toBe(1);
  });

  it('calls the listener when a frame lands in an empty queue, and at once on registration if frames wait', () => {
    const { rx } = setup();
    let calls = 0;
    rx.onReadable(() => calls++);
    expect(calls).toBe(0);
    rx.deliver(frame(0));
    rx.deliver(frame(1));
    expect(calls).toBe(1);
    let other = 0;
    rx.onReadable(() => other++);
    expect(other).toBe(1);
  });

  it('a listener that throws is reported to the host and the frame stays queued', () => {
    const { host, rx } = setup();
    rx.onReadable(() => {
      throw new Error('boom');
    });
    rx.deliver(frame(0));
    expect(host.failures).toHaveLength(1);
    expect(rx.queued).toBe(1);
  });

  it('close drops the queue, hands the session to the host once and wakes the reader', () => {
    const { host, rx } = setup();
    rx.open(4);
    rx.deliver(frame(0));
    let woken = 0;
    rx.onReadable(() => woken++);
    woken = 0;
    rx.close();
    rx.close();
    expect(host.closed.map((s) => s?.peer)).toEqual(['peer-a']);
    expect(woken).toBe(1);
    expect(rx.isClosed).toBe(true);
    expect(rx.poll()).toBeUndefined();
    rx.deliver(frame(1));
    expect(rx.queued).toBe(0);
  });

  it('tells when the two ends announced different credits', () => {
    const { rx } = setup(4);
    expect(rx.creditsDisagree).toBe(false); // the receiver is not open yet
    rx.open(4);
    expect(rx.creditsDisagree).toBe(false);
    rx.open(8);
    expect(rx.creditsDisagree).toBe(true);
    const warnings: object[] = [];
    const logger = { debug() {}, info() {}, warn: (obj: object) => void warnings.push(obj), error() {}, child: () => logger };
    rx.warnIfCreditsDisagree(logger);
    expect(warnings).toEqual([{ channel: 'c', receiverCredits: 8, senderCredits: 4 }]);
  });
});
