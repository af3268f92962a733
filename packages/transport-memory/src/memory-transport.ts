import {
  TransportError,
  type ChannelId,
  type ChannelOptions,
  type ChannelReceiver,
  type ChannelSender,
  type Codec,
  type Transport,
  type TransportEvent,
} from '@mobius/interface';
import { InProcessChannel, MsgpackCodec, TransportEvents, channelCredits } from '@mobius/plugin-kit';
import { SerializingSender } from './serializing-sender.js';

// Every memory transport of the process, by endpoint, so that two "workers" in one process
// (tests, embedded mode) can reach each other. On globalThis so ESM and CJS copies share it.
const REGISTRY = Symbol.for('mobius.transport-memory.endpoints');
type Registry = { [REGISTRY]?: Map<string, MemoryTransport> };
function endpoints(): Map<string, MemoryTransport> {
  const g = globalThis as unknown as Registry;
  return (g[REGISTRY] ??= new Map());
}

let counter = 0;

export interface MemoryTransportOptions {
  /** Endpoint name: the transport is reachable at `memory://<name>`. Default: a unique name. */
  readonly name?: string;
  /**
   * Codec of the channels opened with `serialize: true` (`runtime.serialize-local-channels`).
   * Default: the network transport's `MsgpackCodec`, so records arrive as a remote worker sees them.
   */
  readonly codec?: Codec;
}

/**
 * The in-process transport: frames are passed by reference (no encoding), with the same
 * credit-based flow control as the network transports. A sender opened with `serialize: true`
 * passes a decoded copy of each frame's encoding instead.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly endpoint: string;
  private readonly channels = new Map<ChannelId, InProcessChannel>();
  private readonly events = new TransportEvents();
  private readonly peers = new Set<string>();
  private started = false;
  private closed = false;
  private codec: Codec | undefined;

  constructor(options: MemoryTransportOptions = {}) {
    this.endpoint = `memory://${options.name ?? `mem-${process.pid}-${++counter}`}`;
    this.codec = options.codec;
  }

  async start(): Promise<void> {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `memory transport ${this.endpoint} is closed`);
    if (this.started) return;
    const registry = endpoints();
    if (registry.has(this.endpoint)) throw new TransportError('TRANSPORT_FAILED', `endpoint ${this.endpoint} is already in use`);
    registry.set(this.endpoint, this);
    this.started = true;
    for (const other of registry.values()) if (other !== this) other.peerEvent('peer-reconnected', this.endpoint);
  }

  /** The channel with this id in this transport, created on first use by either end. */
  channel(id: ChannelId, options: ChannelOptions): InProcessChannel {
    channelCredits(id, options);
    let ch = this.channels.get(id);
    if (ch === undefined || ch.isClosed) {
      ch = new InProcessChannel(id, this.forget);
      this.channels.set(id, ch);
    }
    return ch;
  }

  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender {
    this.assertOpen();
    const target = endpoints().get(targetEndpoint);
    if (target === undefined || target.closed) {
      throw new TransportError('TRANSPORT_PEER_LOST', `no memory transport listens at ${targetEndpoint} (channel ${channel})`);
    }
    this.peers.add(targetEndpoint);
    const sender = target.channel(channel, options).connect(options.credits);
    return options.serialize === true ? new SerializingSender(sender, (this.codec ??= new MsgpackCodec())) : sender;
  }

  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver {
    this.assertOpen();
    return this.channel(channel, options).open(options.credits);
  }

  private readonly forget = (ch: InProcessChannel): void => {
    if (this.channels.get(ch.channel) === ch) this.channels.delete(ch.channel);
  };

  on(event: TransportEvent, listener: (peer: string) => void): void {
    this.events.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ch of [...this.channels.values()]) ch.close();
    this.channels.clear();
    const registry = endpoints();
    // Only the transport registered at the endpoint announces its loss: closing one that never
    // started (for example after a duplicate name) must not report a live peer as lost.
    if (registry.get(this.endpoint) !== this) return;
    registry.delete(this.endpoint);
    for (const other of registry.values()) if (other.peers.has(this.endpoint)) other.peerEvent('peer-lost', this.endpoint);
  }

  private peerEvent(event: TransportEvent, peer: string): void {
    this.events.emit(event, peer);
  }

  private assertOpen(): void {
    if (!this.started) throw new TransportError('TRANSPORT_FAILED', `memory transport ${this.endpoint} is not started: call start() first`);
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', `memory transport ${this.endpoint} is closed`);
  }
}

/** Factory form, for configuration-driven selection. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options);
}
