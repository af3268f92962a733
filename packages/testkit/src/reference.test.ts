/**
 * The suites run against two small reference implementations defined here: a JSON codec and an
 * asynchronous in-process transport that delivers frames as bytes through that codec on a later
 * event-loop turn, the way a network transport does. If the suites pass for these, they do not
 * rely on the synchronous delivery of the memory transport.
 */
import {
  TransportError,
  type ChannelId,
  type ChannelOptions,
  type ChannelReceiver,
  type ChannelSender,
  type Codec,
  type Frame,
  type Transport,
  type TransportEvent,
} from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { describeCodec, describeTransport, frameOf, waitFor } from './index.js';

const KINDS = ['data', 'barrier', 'watermark', 'determinants', 'end'];

/** A JSON codec that validates what it decodes. */
class JsonCodec implements Codec {
  readonly name = 'json';
  encode(frame: Frame): Uint8Array {
    const fields = [frame.channel, frame.kind, frame.seq, frame.count, frame.records, frame.barrier, frame.watermark, frame.determinants];
    if (frame.timestamps !== null) fields.push(frame.timestamps);
    return new TextEncoder().encode(JSON.stringify(fields));
  }
  decode(bytes: Uint8Array): Frame {
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new TransportError('FRAME_MALFORMED', `bad JSON: ${String(e)}`);
    }
    if (!Array.isArray(v) || (v.length !== 8 && v.length !== 9)) throw new TransportError('FRAME_MALFORMED', 'not a frame');
    const timestamps = v.length === 9 ? (v[8] as unknown) : null;
    if (timestamps !== null && !(Array.isArray(timestamps) && timestamps.every((t) => typeof t === 'number'))) throw new TransportError('FRAME_MALFORMED', 'bad timestamps');
    const [channel, kind, seq, count, records, barrier, watermark, determinants] = v as [string, Frame['kind'], number, number, unknown[] | null, Frame['barrier'], number | null, Frame['determinants']];
    const ok =
      typeof channel === 'string' &&
      KINDS.includes(kind) &&
      Number.isSafeInteger(seq) &&
      seq >= 0 &&
      Number.isSafeInteger(count) &&
      count >= 0 &&
      (records === null ? count === 0 : Array.isArray(records) && records.length === count) &&
      (kind !== 'data' || records !== null) &&
      (barrier === null || (typeof barrier === 'object' && typeof barrier.checkpointId === 'number')) &&
      (kind !== 'barrier' || barrier !== null) &&
      (watermark === null || typeof watermark === 'number') &&
      (kind !== 'watermark' || watermark !== null) &&
      (determinants === null || Array.isArray(determinants)) &&
      (kind !== 'determinants' || determinants !== null);
    if (!ok) throw new TransportError('FRAME_MALFORMED', 'frame fields are invalid');
    return { channel, kind, seq, count, records, barrier, watermark, determinants, timestamps: timestamps as number[] | null };
  }
}

const codec = new JsonCodec();
const registry = new Map<string, LoopTransport>();
let counter = 0;
const later = (fn: () => void): void => void setImmediate(fn);

class Inbox {
  queue: Frame[] = [];
  listener: (() => void) | undefined;
  closed = false;
  sender: LoopSender | undefined;
  constructor(readonly id: ChannelId) {}
  deliver(frame: Frame): void {
    if (this.closed) return;
    this.queue.push(frame);
    if (this.queue.length === 1) this.listener?.();
  }
}

class LoopSender implements ChannelSender {
  available: number;
  closed = false;
  waiters: (() => void)[] = [];
  constructor(
    readonly channel: ChannelId,
    private readonly target: string,
    credits: number,
  ) {
    this.available = credits;
  }
  get credits(): number {
    return this.closed ? 0 : this.available;
  }
  trySend(frame: Frame): boolean {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `channel ${this.channel} is closed`);
    if (this.available === 0) return false;
    this.available--;
    const bytes = codec.encode(frame);
    later(() => registry.get(this.target)?.arrive(this, bytes));
    return true;
  }
  whenWritable(): Promise<void> {
    if (this.closed || this.available > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  credit(): void {
    this.available++;
    this.wake();
  }
  close(): void {
    this.closed = true;
    this.wake();
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

class LoopTransport implements Transport {
  readonly kind = 'loop';
  readonly endpoint: string;
  malformed = 0;
  private readonly inboxes = new Map<ChannelId, Inbox>();
  private readonly listeners = new Map<TransportEvent, ((peer: string) => void)[]>();
  private readonly targets = new Set<string>();
  private readonly lostPeers = new Set<string>();
  private started = false;
  private closed = false;

  constructor(name = `loop-${++counter}`) {
    this.endpoint = `loop://${name}`;
  }

  async start(): Promise<void> {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'closed');
    if (this.started) return;
    if (registry.has(this.endpoint)) throw new TransportError('TRANSPORT_FAILED', `${this.endpoint} in use`);
    registry.set(this.endpoint, this);
    this.started = true;
    for (const t of registry.values()) if (t !== this) later(() => t.peerBack(this.endpoint));
  }

  openSender(channel: ChannelId, target: string, options: ChannelOptions): ChannelSender {
    this.check(options);
    this.targets.add(target);
    return new LoopSender(channel, target, options.credits);
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.check(options);
    const box = this.inbox(channel);
    return {
      channel,
      poll: () => {
        const f = box.queue.shift();
        const sender = box.sender;
        if (f !== undefined && sender !== undefined) later(() => sender.credit());
        return f;
      },
      onReadable: (l) => {
        box.listener = l;
        if (box.queue.length > 0) l();
      },
      close: () => this.closeInbox(box),
    };
  }

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const box of [...this.inboxes.values()]) this.closeInbox(box);
    if (registry.get(this.endpoint) !== this) return;
    registry.delete(this.endpoint);
    for (const t of registry.values()) later(() => t.peerGone(this.endpoint));
  }

  /** Raw bytes from "the network": anything that does not decode is counted and dropped. */
  raw(bytes: Uint8Array): void {
    try {
      const frame = codec.decode(bytes);
      this.inbox(frame.channel).deliver(frame);
    } catch {
      this.malformed++;
    }
  }

  arrive(sender: LoopSender, bytes: Uint8Array): void {
    if (this.closed) return;
    const box = this.inbox(sender.channel);
    if (box.sender !== sender) box.sender = sender;
    box.deliver(codec.decode(bytes));
  }

  private peerGone(endpoint: string): void {
    if (!this.targets.has(endpoint) || this.closed) return;
    this.lostPeers.add(endpoint);
    for (const l of this.listeners.get('peer-lost') ?? []) l(endpoint);
  }

  private peerBack(endpoint: string): void {
    if (!this.lostPeers.delete(endpoint) || this.closed) return;
    for (const l of this.listeners.get('peer-reconnected') ?? []) l(endpoint);
  }

  private inbox(channel: ChannelId): Inbox {
    let box = this.inboxes.get(channel);
    if (box === undefined) {
      box = new Inbox(channel);
      this.inboxes.set(channel, box);
    }
    return box;
  }

  private closeInbox(box: Inbox): void {
    if (box.closed) return;
    box.closed = true;
    box.queue = [];
    if (this.inboxes.get(box.id) === box) this.inboxes.delete(box.id);
    const sender = box.sender;
    if (sender !== undefined) later(() => sender.close());
    box.listener?.();
  }

  private check(options: ChannelOptions): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `${this.endpoint} is closed`);
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', 'not started');
    if (!Number.isInteger(options.credits) || options.credits < 1) throw new TransportError('TRANSPORT_FAILED', 'credits must be a positive integer');
  }
}

describeCodec('json (reference)', codec);

describeTransport(
  'loop (asynchronous reference)',
  {
    create: () => new LoopTransport(),
    createAt: (endpoint) => new LoopTransport(endpoint.slice('loop://'.length)),
    sendRaw: async (endpoint, bytes) => registry.get(endpoint)?.raw(bytes),
  },
  { largeFrameBytes: 1024 * 1024 },
);

describeTransport('loop without optional factory methods', { create: () => new LoopTransport() }, { frames: 100, largeFrameBytes: 64 * 1024 });

describe('testkit helpers', () => {
  it('frameOf builds a data frame with every field', () => {
    expect(frameOf('c', 5, ['a', 'b'])).toEqual({ channel: 'c', kind: 'data', seq: 5, count: 2, records: ['a', 'b'], barrier: null, watermark: null, determinants: null, timestamps: null });
  });

  it('waitFor names what it waited for on timeout', async () => {
    await expect(waitFor(() => false, 'the moon', 30)).rejects.toThrow(/the moon/);
  });

  it('the reference transport counts raw garbage it dropped', async () => {
    const t = new LoopTransport();
    await t.start();
    t.raw(new Uint8Array([1, 2, 3]));
    expect(t.malformed).toBe(1);
    await t.close();
  });
});
