import type { ControlMessage } from '@mobius/interface';

/**
 * Control wire format: one ZeroMQ frame per message (after the ROUTER's routing id), holding the
 * msgpack array `[kind, correlationId, message]`.
 */
export const HELLO = 1;
export const REQUEST = 2;
export const REPLY = 3;
export const PUSH = 4;
export const PING = 5;
export const PONG = 6;
export const KIND_NAMES = ['?', 'HELLO', 'REQUEST', 'REPLY', 'PUSH', 'PING', 'PONG'];

export class MalformedControl extends Error {}

export function isMessage(v: unknown): v is ControlMessage {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string';
}
