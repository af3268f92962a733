import type { ChannelId, Frame } from './frame.js';
import type { ControlChannel } from './control.js';

/** Options of one channel, the same on both ends. */
export interface ChannelOptions {
  /** Frames the receiver accepts in flight; the sender waits when it has none left. */
  readonly credits: number;
  /**
   * Sender side: encode and decode every frame even when the receiver is in this process, so
   * it receives copies a remote receiver would (`runtime.serialize-local-channels`). Network
   * transports encode anyway and ignore it.
   */
  readonly serialize?: boolean;
}

/** The sending end of a channel. */
export interface ChannelSender {
  readonly channel: ChannelId;
  /** Frames that may be sent now without waiting. */
  readonly credits: number;
  /** Sends the frame if a credit is available and returns true; returns false and sends nothing otherwise. */
  trySend(frame: Frame): boolean;
  /** Resolves when a credit is available or the channel is closed. */
  whenWritable(): Promise<void>;
  close(): void;
}

/** The receiving end of a channel. Frames arrive in the order they were sent. */
export interface ChannelReceiver {
  readonly channel: ChannelId;
  /** Takes the next frame and returns its credit to the sender; undefined when none is queued. */
  poll(): Frame | undefined;
  /** The listener runs when a frame arrives while the queue was empty. One listener per receiver. */
  onReadable(listener: () => void): void;
  close(): void;
}

/** Events of a transport: a peer endpoint lost or reconnected. */
export type TransportEvent = 'peer-lost' | 'peer-reconnected';

/**
 * Moves frames between tasks. Ordered, reliable delivery on a channel while both ends live;
 * replay and de-duplication are the runtime's job, so an implementation stays small.
 * Endpoints are strings (`memory://name`, `tcp://host:port`, `ipc://path`).
 */
export interface Transport {
  /** Short name, e.g. `memory`, `zeromq`. */
  readonly kind: string;
  /** The endpoint other processes use to reach this one's receivers (valid after start). */
  readonly endpoint: string;
  start(): Promise<void>;
  /** Opens the sending end of `channel`, whose receiver lives at `targetEndpoint`. */
  openSender(channel: ChannelId, targetEndpoint: string, options: ChannelOptions): ChannelSender;
  /** Opens the receiving end of `channel` in this process. */
  openReceiver(channel: ChannelId, options: ChannelOptions): ChannelReceiver;
  on(event: TransportEvent, listener: (peer: string) => void): void;
  /** The coordinator ↔ worker channel, where the transport offers one. */
  readonly control?: ControlChannel;
  close(): Promise<void>;
}

/** Creates a transport; what a plugin package exports. */
export type TransportFactory = (options: Readonly<Record<string, unknown>>) => Transport;
