import { TransportError, type ChannelId, type ChannelReceiver, type ChannelSender, type Frame } from '@mobius/interface';

/**
 * One channel inside a process: a bounded queue of frames. The sender's credits are the free
 * places of the queue, so a receiver that stops polling stops its sender.
 */
export class MemoryChannel {
  private queue: Frame[] = [];
  private head = 0;
  private readableListener: (() => void) | undefined;
  private writableWaiters: (() => void)[] = [];
  closed = false;

  constructor(
    readonly id: ChannelId,
    readonly capacity: number,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  get credits(): number {
    return this.closed ? 0 : this.capacity - this.queued;
  }

  trySend(frame: Frame): boolean {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `channel ${this.id} is closed`);
    if (this.queued >= this.capacity) return false;
    const wasEmpty = this.queued === 0;
    this.queue.push(frame);
    if (wasEmpty) this.readableListener?.();
    return true;
  }

  whenWritable(): Promise<void> {
    if (this.closed || this.queued < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
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
    this.wakeWriters();
    return frame;
  }

  onReadable(listener: () => void): void {
    this.readableListener = listener;
    if (this.queued > 0) listener();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.wakeWriters();
    this.readableListener?.();
  }

  private wakeWriters(): void {
    if (this.writableWaiters.length === 0) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }
}

/** The sending view of a channel. */
export class MemorySender implements ChannelSender {
  constructor(private readonly ch: MemoryChannel) {}
  get channel(): ChannelId {
    return this.ch.id;
  }
  get credits(): number {
    return this.ch.credits;
  }
  trySend(frame: Frame): boolean {
    return this.ch.trySend(frame);
  }
  whenWritable(): Promise<void> {
    return this.ch.whenWritable();
  }
  close(): void {
    // The receiver owns the queue: frames already sent stay readable.
  }
}

/** The receiving view of a channel. */
export class MemoryReceiver implements ChannelReceiver {
  constructor(
    private readonly ch: MemoryChannel,
    private readonly onClose: () => void,
  ) {}
  get channel(): ChannelId {
    return this.ch.id;
  }
  poll(): Frame | undefined {
    return this.ch.poll();
  }
  onReadable(listener: () => void): void {
    this.ch.onReadable(listener);
  }
  close(): void {
    this.ch.close();
    this.onClose();
  }
}
