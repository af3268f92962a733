/**
 * The data-plane wire protocol: every message is three ZeroMQ frames
 * `[type (1 byte), channel id (utf8), payload]` (the ROUTER sees the sender's routing id in front).
 * See the README for the full description.
 */
export const MSG_OPEN = 0x01;
export const MSG_DATA = 0x02;
export const MSG_CREDIT = 0x03;
export const MSG_CLOSE = 0x04;
export const MSG_PING = 0x05;
export const MSG_PONG = 0x06;

export const MSG_NAMES: Readonly<Record<number, string>> = {
  [MSG_OPEN]: 'OPEN',
  [MSG_DATA]: 'DATA',
  [MSG_CREDIT]: 'CREDIT',
  [MSG_CLOSE]: 'CLOSE',
  [MSG_PING]: 'PING',
  [MSG_PONG]: 'PONG',
};

/** One-byte type parts, allocated once. */
export const TYPE_PART: Readonly<Record<number, Buffer>> = {
  [MSG_OPEN]: Buffer.from([MSG_OPEN]),
  [MSG_DATA]: Buffer.from([MSG_DATA]),
  [MSG_CREDIT]: Buffer.from([MSG_CREDIT]),
  [MSG_CLOSE]: Buffer.from([MSG_CLOSE]),
  [MSG_PING]: Buffer.from([MSG_PING]),
  [MSG_PONG]: Buffer.from([MSG_PONG]),
};

export const EMPTY = Buffer.alloc(0);

/** Two big-endian uint32 values (OPEN: credits, epoch; CREDIT: count, epoch). */
export function u32Pair(a: number, b: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeUInt32BE(a >>> 0, 0);
  buf.writeUInt32BE(b >>> 0, 4);
  return buf;
}

/** One big-endian uint32 (CLOSE: epoch; PING/PONG: nonce). */
export function u32(a: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt32BE(a >>> 0, 0);
  return buf;
}

/** Thrown by the message parsers; the receive loops turn it into a logged, counted drop. */
export class WireError extends Error {}

export function readU32Pair(payload: Buffer, what: string): [number, number] {
  if (payload.length !== 8) throw new WireError(`${what} payload must be 8 bytes, got ${payload.length}`);
  return [payload.readUInt32BE(0), payload.readUInt32BE(4)];
}

export function readU32(payload: Buffer, what: string): number {
  if (payload.length !== 4) throw new WireError(`${what} payload must be 4 bytes, got ${payload.length}`);
  return payload.readUInt32BE(0);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** A channel id part: non-empty, valid utf8, at most 1 KiB. */
export function readChannel(part: Buffer): string {
  if (part.length === 0 || part.length > 1024) throw new WireError(`channel id must be 1..1024 bytes, got ${part.length}`);
  try {
    return decoder.decode(part);
  } catch {
    throw new WireError('channel id is not valid utf8');
  }
}

/** Replaces the wildcard host of a bound endpoint by the host peers should dial. */
export function advertised(lastEndpoint: string, host: string): string {
  return lastEndpoint.replace('://0.0.0.0:', `://${host}:`).replace('://[::]:', `://${host}:`);
}

export type SocketMessage = Buffer[];
