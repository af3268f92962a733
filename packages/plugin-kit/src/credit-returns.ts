import type { CreditReceiver, CreditSession } from './credit-receiver.js';

/** Sends one credit message: `count` credits of `session` on `receiver`'s channel. */
export type SendCredit<P> = (receiver: CreditReceiver<P>, session: CreditSession<P>, count: number) => void;

/**
 * Batches the credits a network transport sends back. Once a quarter of a channel's credits (at
 * least one) is due they go right after the current drain (a microtask), so a fast reader keeps
 * its sender busy with few messages; a smaller remainder goes on the next event-loop turn, so a
 * single poll still frees its sender promptly.
 */
export class CreditReturns<P> {
  private due = new Set<CreditReceiver<P>>();
  private microtaskQueued = false;
  private immediateQueued = false;

  constructor(private readonly send: SendCredit<P>) {}

  schedule(receiver: CreditReceiver<P>): void {
    this.due.add(receiver);
    const s = receiver.session;
    if (s !== undefined && s.pendingCredit >= Math.max(1, s.capacity >> 2)) {
      if (this.microtaskQueued) return;
      this.microtaskQueued = true;
      queueMicrotask(this.flushSoon);
    } else if (!this.immediateQueued) {
      this.immediateQueued = true;
      setImmediate(this.flushLater);
    }
  }

  /** Forgets a receiver whose session ended or closed. */
  forget(receiver: CreditReceiver<P>): void {
    this.due.delete(receiver);
  }

  /** Sends every credit due now. */
  flush(): void {
    if (this.due.size === 0) return;
    const due = this.due;
    this.due = new Set();
    for (const receiver of due) {
      const session = receiver.session;
      if (session === undefined) continue;
      const count = receiver.takeCredit();
      if (count > 0) this.send(receiver, session, count);
    }
  }

  clear(): void {
    this.due.clear();
  }

  // Bound once, so scheduling allocates no closure.
  private readonly flushSoon = (): void => {
    this.microtaskQueued = false;
    this.flush();
  };

  private readonly flushLater = (): void => {
    this.immediateQueued = false;
    this.flush();
  };
}
