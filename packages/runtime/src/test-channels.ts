/**
 * Test helpers (not exported from the package): a bounded in-process channel that honours
 * credits and records what it carried, and a minimal `Transport` over a Map of channels.
 * `@mobius/transport-memory` is a plugin, and the engine never imports a plugin, so the
 * runtime's tests bring their own, on the channel of `@mobius/plugin-kit`.
 */
import type { ChannelId, ChannelOptions, ChannelReceiver, ChannelSender, Frame, Transport } from '@mobius/interface';
import { InProcessChannel, InProcessSender } from '@mobius/plugin-kit';

/** One channel: a FIFO of at most `capacity` frames from its current sender. */
export class TestChannel extends InProcessChannel {
  /** Every frame accepted, in order (for assertions). */
  readonly sent: Frame[] = [];
  /** The most frames queued at once (never more than the capacity). */
  maxQueued = 0;
  polls = 0;

  constructor(
    id: ChannelId,
    readonly capacity: number,
  ) {
    super(id);
  }

  get id(): ChannelId {
    return this.channel;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  override deliver(frame: Frame): void {
    if (this.isClosed) return;
    this.sent.push(frame);
    if (this.queued + 1 > this.maxQueued) this.maxQueued = this.queued + 1;
    super.deliver(frame);
  }

  override poll(): Frame | undefined {
    const frame = super.poll();
    if (frame !== undefined) this.polls++;
    return frame;
  }

  /** The channel's sending end (one per channel, made on first use with the channel's capacity). */
  sender(): TestSender {
    return this.connect(this.capacity) as TestSender;
  }

  protected override newSender(): TestSender {
    return new TestSender(this);
  }
}

export class TestSender extends InProcessSender {
  /** Prefer `channel.sender()`; a sender made directly still feeds the channel with its credits. */
  constructor(readonly ch: TestChannel) {
    super(ch, ch.capacity);
    if (!ch.isClosed) ch.begin(this, 0, ch.capacity);
  }
  /** Whether `close()` was called; the end itself stays usable, as the in-process sender's close does nothing. */
  closed = false;

  override close(): void {
    this.closed = true;
  }
}

/** The receiving end of a test channel is the channel itself. */
export type TestReceiver = TestChannel;

/** A sender and a receiver of one fresh channel. */
export function channelPair(id: ChannelId, credits: number): { channel: TestChannel; sender: TestSender; receiver: TestReceiver } {
  const channel = new TestChannel(id, credits);
  return { channel, sender: channel.sender(), receiver: channel };
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
    const sender = this.channel(channel, options).sender();
    this.senders.push(sender);
    return sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    return this.channel(channel, options).open(options.credits);
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
