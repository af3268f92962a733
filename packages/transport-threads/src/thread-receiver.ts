import type { ChannelId, ChannelReceiver, Codec, Frame } from '@mobius/interface';
import type { SharedFrameRing } from './shared-frame-ring.js';

/** One sender's ring feeding a receiver, and whether that sender's thread is gone. */
export interface RingSession {
  readonly ring: SharedFrameRing;
  /** The endpoint of the sending thread. */
  readonly peer: string;
  lost: boolean;
}

/**
 * The receiving end of a channel from another thread. Frames stay encoded in the ring until
 * `poll()` decodes them, so the ring is all the memory a channel holds (plus the pieces of one
 * frame larger than the ring, joined here).
 *
 * A channel fed by a new sender (a restarted task's) gets a new ring; the frames left in the
 * old one are read first, in order, then the old ring is dropped.
 */
export class ThreadReceiver implements ChannelReceiver {
  private sessions: RingSession[] = [];
  private pieces: Uint8Array[] = [];
  private listener: (() => void) | undefined;
  private waiting = false;
  private ended = false;

  constructor(
    readonly channel: ChannelId,
    /** Credits the receiving end was opened with; the sender's own bound its ring. */
    readonly credits: number,
    private readonly codec: Codec,
    private readonly closed: (receiver: ThreadReceiver) => void,
    /** A readable listener threw while called from a wake-up (no caller to throw to). */
    private readonly listenerFailed: (receiver: ThreadReceiver, err: unknown) => void,
  ) {}

  get isClosed(): boolean {
    return this.ended;
  }

  /** The endpoints of the threads whose rings feed this receiver. */
  get peers(): readonly string[] {
    return this.sessions.map((s) => s.peer);
  }

  /** Adds a sender's ring; called by the transport when the hub hands it over. */
  attach(session: RingSession): void {
    if (this.ended) {
      session.ring.closeReceiver();
      return;
    }
    this.sessions.push(session);
    // A reader waiting on the old, drained ring would not hear of the new one.
    if (this.sessions.length > 1) {
      if (!this.sessions[0].ring.readable()) this.notify();
      return;
    }
    if (session.ring.readable()) this.notify();
    else this.arm();
  }

  /** The sending thread at `peer` is gone: what it wrote whole stays readable, an unfinished frame is dropped. */
  peerLost(peer: string): void {
    let found = false;
    for (const s of this.sessions) {
      if (s.peer !== peer) continue;
      s.lost = true;
      found = true;
    }
    // Wakes a reader waiting on that ring, so it moves on.
    if (found) this.notify();
  }

  poll(): Frame | undefined {
    for (;;) {
      const session = this.sessions[0];
      if (session === undefined || this.ended) return undefined;
      const bytes = session.ring.read();
      if (bytes === undefined) {
        if (this.sessions.length > 1 || session.lost) {
          this.sessions.shift();
          this.pieces = [];
          continue;
        }
        this.arm();
        return undefined;
      }
      if (session.ring.lastWasPiece) {
        this.pieces.push(bytes);
        continue;
      }
      return this.codec.decode(this.pieces.length === 0 ? bytes : this.join(bytes));
    }
  }

  onReadable(listener: () => void): void {
    this.listener = listener;
    if (this.ended || this.readable()) this.notify();
  }

  /** Closes the channel: senders see it closed; frames not yet polled are dropped. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.sessions) s.ring.closeReceiver();
    this.sessions = [];
    this.pieces = [];
    this.closed(this);
    this.notify();
  }

  private readable(): boolean {
    const session = this.sessions[0];
    return session !== undefined && (session.ring.readable() || this.sessions.length > 1);
  }

  private join(last: Uint8Array): Uint8Array {
    this.pieces.push(last);
    let length = 0;
    for (const p of this.pieces) length += p.length;
    const whole = new Uint8Array(length);
    let at = 0;
    for (const p of this.pieces) {
      whole.set(p, at);
      at += p.length;
    }
    this.pieces = [];
    return whole;
  }

  /** Waits for the current ring to get a record (once: the next empty poll arms it again). */
  private arm(): void {
    if (this.waiting || this.ended) return;
    const session = this.sessions[0];
    if (session === undefined) return;
    this.waiting = true;
    session.ring.whenReadable(this.arrived);
  }

  // Bound once, so waiting allocates no closure.
  private readonly arrived = (): void => {
    this.waiting = false;
    if (this.ended) return;
    if (this.readable()) this.notify();
    else this.arm();
  };

  private notify(): void {
    const listener = this.listener;
    if (listener === undefined) return;
    try {
      listener();
    } catch (e) {
      this.listenerFailed(this, e);
    }
  }
}
