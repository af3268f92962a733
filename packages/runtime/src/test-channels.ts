/**
 * Test helpers (not exported from the package): a bounded in-memory channel that honours
 * credits, its sender and receiver views, and a minimal `Transport` over a Map of channels.
 * `@mobius/transport-memory` is a plugin, and the engine never imports a plugin, so the
 * runtime's tests bring their own.
 */
import type { ChannelId, ChannelOptions, ChannelReceiver, ChannelSender, Frame, Transport } from '@mobius/interface';

/** One channel: a FIFO of at most `capacity` frames. A sender's credits are the free places. */
export class TestChannel {
  private queue: Frame[] = [];
  private readableListener: (() => void) | undefined;
  private writableWaiters: (() => void)[] = [];
  closed = false;
  /** Every frame accepted, in order (for assertions). */
  readonly sent: Frame[] = [];
  /** The most frames queued at once (never more than the capacity). */
  maxQueued = 0;
  polls = 0;

  constructor(
    readonly id: ChannelId,
    readonly capacity: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get credits(): number {
    return this.closed ? 0 : this.capacity - this.queue.length;
  }

  trySend(frame: Frame): boolean {
    if (this.closed) throw new Error(`test channel ${this.id} is closed`);
    if (this.queue.length >= this.capacity) return false;
    const wasEmpty = this.queue.length === 0;
    this.queue.push(frame);
    this.sent.push(frame);
    this.maxQueued = Math.max(this.maxQueued, this.queue.length);
    if (wasEmpty) this.readableListener?.();
    return true;
  }

  whenWritable(): Promise<void> {
    if (this.closed || this.queue.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  poll(): Frame | undefined {
    const frame = this.queue.shift();
    if (frame === undefined) return undefined;
    this.polls++;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
    return frame;
  }

  onReadable(listener: () => void): void {
    this.readableListener = listener;
    if (this.queue.length > 0) listener();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
    this.readableListener?.();
  }
}

export class TestSender implements ChannelSender {
  closed = false;
  constructor(readonly ch: TestChannel) {}
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
    // Frames already sent stay readable: the receiver owns the queue.
    this.closed = true;
  }
}

export class TestReceiver implements ChannelReceiver {
  constructor(readonly ch: TestChannel) {}
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
  }
}

/** A sender and a receiver of one fresh channel. */
export function channelPair(id: ChannelId, credits: number): { channel: TestChannel; sender: TestSender; receiver: TestReceiver } {
  const channel = new TestChannel(id, credits);
  return { channel, sender: new TestSender(channel), receiver: new TestReceiver(channel) };
}

/** A Transport over a Map of channels by id, all at the endpoint `test://local`. */
export class TestTransport implements Transport {
  readonly kind = 'test';
  readonly endpoint = 'test://local';
  readonly channels = new Map<ChannelId, TestChannel>();
  readonly senders: TestSender[] = [];

  async start(): Promise<void> {}

  private channel(id: ChannelId, options: ChannelOptions): TestChannel {
    let ch = this.channels.get(id);
    if (ch === undefined) {
      ch = new TestChannel(id, options.credits);
      this.channels.set(id, ch);
    }
    return ch;
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    if (targetEndpoint !== this.endpoint) throw new Error(`unknown endpoint ${targetEndpoint}`);
    const sender = new TestSender(this.channel(channel, options));
    this.senders.push(sender);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    return new TestReceiver(this.channel(channel, options));
  }

  on(): void {}

  async close(): Promise<void> {
    for (const ch of this.channels.values()) ch.close();
  }
}

/** Lets pending promise reactions and I/O callbacks run: one turn of the event loop (not a timed wait). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  readonly settled: boolean;
}

/** A promise with its resolve/reject exposed, and whether it has settled. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = (v) => {
      settled = true;
      res(v);
    };
    reject = (e) => {
      settled = true;
      rej(e);
    };
  });
  return {
    promise,
    resolve: (v) => resolve(v),
    reject: (e) => reject(e),
    get settled() {
      return settled;
    },
  };
}

/** Tracks whether a promise has settled yet, without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly done: boolean; readonly promise: Promise<T> } {
  let done = false;
  const p = promise.finally(() => {
    done = true;
  });
  p.catch(() => undefined);
  return {
    promise: p,
    get done() {
      return done;
    },
  };
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** What a synchronous call threw (fails the test if it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}
