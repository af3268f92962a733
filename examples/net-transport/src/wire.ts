import { isDeterminant, makeFrame, type Barrier, type Determinant, type Frame, type FrameKind } from '@mobius/interface';

/**
 * The wire format of the net transport. Every message on a TCP connection is
 *
 * ```
 * [ length: uint32 big-endian ][ type: 1 byte ][ payload: length - 1 bytes of utf-8 JSON ]
 * ```
 *
 * `length` counts the type byte and the payload, so it is at least 1 and at most
 * `maxMessageBytes` (64 MiB by default). JSON keeps the example readable; a real plugin would
 * use a binary codec (msgpack, or a hand-written layout) for speed and for values JSON cannot
 * carry (`undefined`, `bigint`, `Date`, binary data).
 */
export const MSG_OPEN = 0x01;
export const MSG_DATA = 0x02;
export const MSG_CREDIT = 0x03;
export const MSG_CLOSE = 0x04;

export const MSG_NAMES: Readonly<Record<number, string>> = {
  [MSG_OPEN]: 'OPEN',
  [MSG_DATA]: 'DATA',
  [MSG_CREDIT]: 'CREDIT',
  [MSG_CLOSE]: 'CLOSE',
};

/** Default and hard upper bound of one message (type byte + payload). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Something received that does not follow the protocol: dropped, logged and counted. */
export class WireError extends Error {
  /** True when the byte stream itself is broken (a bad length prefix): the connection must go. */
  readonly fatal: boolean;

  constructor(message: string, fatal = false) {
    super(message);
    this.fatal = fatal;
  }
}

/** One message as bytes: the length prefix, the type byte and the JSON payload. */
export function encodeMessage(type: number, payload: unknown, maxMessageBytes = MAX_MESSAGE_BYTES): Buffer {
  const json = JSON.stringify(payload);
  if (typeof json !== 'string') throw new Error('the payload has no JSON form');
  const size = Buffer.byteLength(json, 'utf8');
  if (size + 1 > maxMessageBytes) throw new Error(`message of ${size + 1} bytes exceeds the limit of ${maxMessageBytes} bytes`);
  const buf = Buffer.allocUnsafe(5 + size);
  buf.writeUInt32BE(size + 1, 0);
  buf[4] = type;
  buf.write(json, 5, 'utf8');
  return buf;
}

/** A complete message taken off the stream. */
export interface RawMessage {
  readonly type: number;
  readonly payload: Buffer;
}

/**
 * Cuts a TCP byte stream into messages. Chunks are kept as they arrive and joined only when a
 * message is complete, so a large frame is copied once.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Length of the message being read (after its prefix), or -1 while the prefix is incomplete. */
  private need = -1;

  constructor(private readonly maxMessageBytes = MAX_MESSAGE_BYTES) {}

  /** True while part of a message was received but not the whole of it. */
  get partial(): boolean {
    return this.size > 0 || this.need >= 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The next complete message, or undefined. Throws a fatal WireError for a corrupt length prefix. */
  next(): RawMessage | undefined {
    if (this.need < 0) {
      if (this.size < 4) return undefined;
      const length = this.take(4).readUInt32BE(0);
      if (length < 1 || length > this.maxMessageBytes) {
        this.chunks = [];
        this.size = 0;
        throw new WireError(`corrupt length prefix: ${length} (allowed 1..${this.maxMessageBytes})`, true);
      }
      this.need = length;
    }
    if (this.size < this.need) return undefined;
    const body = this.take(this.need);
    this.need = -1;
    return { type: body[0], payload: body.subarray(1) };
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    this.size -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

/** Parses a JSON payload; a WireError when it is not JSON or not an object. */
export function parsePayload(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new WireError(`${what} payload is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WireError(`${what} payload must be a JSON object`);
  return value as Record<string, unknown>;
}

export function channelOf(obj: Record<string, unknown>, what: string): string {
  const channel = obj.channel;
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 1024) throw new WireError(`${what}: channel must be a string of 1..1024 characters`);
  return channel;
}

export function uint(obj: Record<string, unknown>, key: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new WireError(`${what}: ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

const KINDS: ReadonlySet<string> = new Set<FrameKind>(['data', 'barrier', 'watermark', 'determinants', 'end']);
const BARRIER_TYPES: ReadonlySet<string> = new Set(['checkpoint', 'savepoint', 'rescale']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A number JSON cannot hold (±Infinity, NaN) as a string, so a frame's watermark, record timestamps and determinant values survive JSON. */
function wireNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

function readNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return Number(v);
  throw new WireError(`DATA: ${what} must be a number`);
}

/**
 * The DATA payload of a frame: the frame itself, with its watermark (+Infinity at the end of a
 * bounded input), record timestamps (NaN for a record without one) and determinant values as
 * {@link wireNumber}s.
 */
export function fromFrame(frame: Frame): Record<string, unknown> {
  return {
    ...frame,
    watermark: frame.watermark === null ? null : wireNumber(frame.watermark),
    determinants: frame.determinants === null ? null : frame.determinants.map((d) => ({ ...d, value: wireNumber(d.value) })),
    timestamps: frame.timestamps === null || frame.timestamps === undefined ? null : frame.timestamps.map(wireNumber),
  };
}

/** Checks the shape of a decoded DATA payload and rebuilds it with `makeFrame` (every field). */
export function toFrame(obj: Record<string, unknown>): Frame {
  const channel = channelOf(obj, 'DATA');
  const kind = obj.kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw new WireError(`DATA: unknown frame kind ${JSON.stringify(kind)}`);
  const seq = uint(obj, 'seq', 'DATA');
  const count = uint(obj, 'count', 'DATA');
  const records = obj.records ?? null;
  if (records !== null && !Array.isArray(records)) throw new WireError('DATA: records must be an array or null');
  if (kind === 'data' && records === null) throw new WireError('DATA: a data frame needs records');
  if ((records === null ? 0 : records.length) !== count) throw new WireError(`DATA: count ${count} differs from the ${records === null ? 0 : records.length} records`);

  const b = obj.barrier ?? null;
  let barrier: Barrier | null = null;
  if (b !== null) {
    if (!isObject(b)) throw new WireError('DATA: barrier must be an object or null');
    const checkpointId = uint(b, 'checkpointId', 'DATA barrier');
    if (typeof b.timestamp !== 'number' || !Number.isFinite(b.timestamp)) throw new WireError('DATA: barrier timestamp must be a number');
    if (typeof b.type !== 'string' || !BARRIER_TYPES.has(b.type)) throw new WireError(`DATA: unknown barrier type ${JSON.stringify(b.type)}`);
    barrier = { checkpointId, timestamp: b.timestamp, type: b.type as Barrier['type'] };
  } else if (kind === 'barrier') throw new WireError('DATA: a barrier frame needs a barrier');

  // A watermark frame without a watermark marks its channel idle.
  const watermark = obj.watermark === null || obj.watermark === undefined ? null : readNumber(obj.watermark, 'watermark');
  const t = obj.timestamps ?? null;
  if (t !== null && !(Array.isArray(t) && t.length === count)) throw new WireError(`DATA: timestamps must be an array of ${count} or null`);
  const timestamps = t === null ? null : t.map((x: unknown) => readNumber(x, 'a timestamp'));

  const d = obj.determinants ?? null;
  let determinants: Determinant[] | null = null;
  if (d !== null) {
    if (!Array.isArray(d)) throw new WireError('DATA: determinants must be an array or null');
    determinants = d.map((raw: unknown) => {
      const entry = isObject(raw) ? { ...raw, value: readNumber(raw.value, 'a determinant value') } : raw;
      if (!isDeterminant(entry)) throw new WireError('DATA: a determinant must be { n, kind: order|time|random|watermark|timers, input, count, value }');
      return { n: entry.n, kind: entry.kind, input: entry.input, count: entry.count, value: entry.value };
    });
  } else if (kind === 'determinants') throw new WireError('DATA: a determinants frame needs determinants');

  return makeFrame(channel, kind as FrameKind, seq, records as unknown[] | null, barrier, watermark, determinants, timestamps);
}

/** Host and port of a `tcp://host:port` endpoint (IPv6 hosts in brackets), or undefined. */
export function parseEndpoint(endpoint: string): { host: string; port: number } | undefined {
  if (typeof endpoint !== 'string') return undefined;
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(endpoint);
  if (m === null) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** `tcp://host:port`, with brackets around an IPv6 host. */
export function formatEndpoint(host: string, port: number): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
