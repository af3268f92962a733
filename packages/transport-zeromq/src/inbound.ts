import type { ChannelId, ChannelReceiver, Frame } from '@mobius/interface';

/** The sender currently feeding an inbound channel, as announced by its OPEN message. */
export interface Session {
  /** Routing id of the sender's DEALER. */
  readonly identity: Buffer;
  readonly epoch: number;
  /** Credits the sender announced: the most frames it may have in flight. */
  readonly capacity: number;
  /** Frames of this session received and not yet polled. */
  outstanding: number;
  /** Frames polled whose credit is not yet sent back. */
  pendingCredit: number;
}

/** What an inbound channel needs from its transport. */
export interface InboundHost {
  scheduleCredit(ch: InboundChannel): void;
  closeInbound(ch: InboundChannel): void;
  listenerFailed(channel: ChannelId, err: unknown): void;
}

/**
 * The receiving side of one channel in a transport: a queue of decoded frames that exists from
 * the first OPEN or `openReceiver`, whichever comes first. Frames that arrive before the receiver
 * is open are held here; the sender's credits bound how many.
 */
export class InboundChannel {
  private queue: Frame[] = [];
  private head = 0;
  /** Frames at the head of the queue that belong to an earlier session: polled without credit. */
  stale = 0;
  session: Session | undefined;
  listener: (() => void) | undefined;
  receiverOpen = false;
  receiverCredits = 0;
  closed = false;

  constructor(
    readonly id: ChannelId,
    readonly idPart: Buffer,
    private readonly host: InboundHost,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  push(frame: Frame): void {
    const wasEmpty = this.head === this.queue.length;
    this.queue.push(frame);
    if (wasEmpty) this.notify();
  }

  poll(): Frame | undefined {
    if (this.head >= this.queue.length) return undefined;
    const frame = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as Frame;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.stale > 0) {
      this.stale--;
    } else if (this.session !== undefined) {
      this.session.outstanding--;
      this.session.pendingCredit++;
      this.host.scheduleCredit(this);
    }
    return frame;
  }

  setListener(listener: () => void): void {
    this.listener = listener;
    if (this.queued > 0 || this.closed) this.notify();
  }

  /** Drops the queue and wakes the reader; the host tells the sender. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.stale = 0;
    this.notify();
  }

  notify(): void {
    const listener = this.listener;
    if (listener === undefined) return;
    try {
      listener();
    } catch (e) {
      this.host.listenerFailed(this.id, e);
    }
  }
}

/** The receiving view of an inbound channel. */
export class ZmqReceiver implements ChannelReceiver {
  constructor(
    private readonly ch: InboundChannel,
    private readonly host: InboundHost,
  ) {}

  get channel(): ChannelId {
    return this.ch.id;
  }

  poll(): Frame | undefined {
    return this.ch.poll();
  }

  onReadable(listener: () => void): void {
    this.ch.setListener(listener);
  }

  close(): void {
    this.host.closeInbound(this.ch);
  }
}
