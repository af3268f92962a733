import type { Frame } from './frame.js';

/**
 * Turns frames into bytes and back, for transports that need bytes. A decoder must throw
 * (never crash the process) on malformed or truncated input.
 */
export interface Codec {
  readonly name: string;
  encode(frame: Frame): Uint8Array;
  decode(bytes: Uint8Array): Frame;
}

/** Turns one value into bytes and back (state values, snapshots). */
export interface Serializer<T> {
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}
