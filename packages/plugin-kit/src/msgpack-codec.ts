import type { Packr } from 'msgpackr';
import { RecordTypeError, TransportError, isDeterminant, type Barrier, type Codec, type Determinant, type Frame, type FrameKind } from '@mobius/interface';
import { prepareRecords, recordPackr } from './record-packing.js';

const KINDS: ReadonlySet<string> = new Set<FrameKind>(['data', 'barrier', 'watermark', 'determinants', 'end']);
const BARRIER_TYPES: ReadonlySet<string> = new Set<Barrier['type']>(['checkpoint', 'savepoint', 'rescale']);

/** Options of {@link MsgpackCodec}. */
export interface MsgpackCodecOptions {
  /**
   * Largest `count` (records in one frame) a decoded frame may announce. Default 16,777,216.
   * Guards against a header that claims more records than any sender produces.
   */
  readonly maxRecords?: number;
}

/**
 * The default codec of the network transport: one msgpack value per frame, the records of the
 * frame packed together (one encode per frame, never per record).
 *
 * Layout: a msgpack array `[channel, kind, seq, count, records, barrier, watermark, determinants]`,
 * every field present (null when unused), records packed with msgpackr (`useRecords: false`, so
 * the bytes are plain msgpack that any msgpack library, Python's included, can read). Record
 * values keep their types (`Map`, `Set`, typed arrays, `-0`, registered classes) through msgpack
 * extensions (see record-packing.ts); a value with no wire form (an unregistered class instance,
 * a function, a symbol) makes `encode` throw `RecordTypeError`, never a silent change.
 *
 * `decode` validates the shape and throws `TransportError` `FRAME_MALFORMED` on anything wrong:
 * truncated bytes, trailing bytes, bad msgpack, a wrong field type, a kind that is not a
 * `FrameKind`, a negative or fractional `seq`/`count`, a `records` array whose length is not
 * `count`, a barrier frame without a valid barrier.
 */
export class MsgpackCodec implements Codec {
  readonly name = 'msgpack';
  private readonly packr: Packr;
  private readonly maxRecords: number;

  constructor(options: MsgpackCodecOptions = {}) {
    this.packr = recordPackr();
    this.maxRecords = options.maxRecords ?? 16_777_216;
  }

  encode(frame: Frame): Uint8Array {
    try {
      const records = frame.records === null || !Array.isArray(frame.records) ? frame.records : prepareRecords(frame.records);
      const fields = [frame.channel, frame.kind, frame.seq, frame.count, records, frame.barrier, frame.watermark, frame.determinants];
      // Record timestamps ride as a ninth field only when there are any (frames without keep their 8-field bytes).
      if (frame.timestamps !== null && frame.timestamps !== undefined) fields.push(Array.from(frame.timestamps));
      return this.packr.pack(fields);
    } catch (e) {
      // A record that cannot be sent is the sender's error, with its own code, not a malformed frame.
      if (e instanceof RecordTypeError) throw e;
      throw new TransportError('FRAME_MALFORMED', `frame of channel ${String(frame.channel)} cannot be encoded: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
  }

  decode(bytes: Uint8Array): Frame {
    if (!(bytes instanceof Uint8Array)) throw malformed(`expected bytes, got ${typeof bytes}`);
    if (bytes.length === 0) throw malformed('empty input');
    let value: unknown;
    try {
      value = this.packr.unpack(bytes);
    } catch (e) {
      if (e instanceof RecordTypeError) throw e;
      throw malformed(`bad msgpack (${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}`, e);
    }
    return this.validate(value);
  }

  private validate(value: unknown): Frame {
    if (!Array.isArray(value) || (value.length !== 8 && value.length !== 9)) throw malformed('expected an array of 8 fields (9 with record timestamps)');
    const [channel, kind, seq, count, records, barrier, watermark, determinants] = value as unknown[];
    const timestamps = value.length === 9 ? (value[8] as unknown) : null;
    if (value.length === 9 && timestamps === null) throw malformed('a ninth field must hold record timestamps');
    if (typeof channel !== 'string' || channel.length === 0) throw malformed('channel must be a non-empty string');
    if (typeof kind !== 'string' || !KINDS.has(kind)) throw malformed(`channel ${channel}: unknown frame kind ${JSON.stringify(kind)}`);
    if (!isCount(seq)) throw malformed(`channel ${channel}: seq must be a non-negative integer`);
    if (!isCount(count) || count > this.maxRecords) throw malformed(`channel ${channel}: count must be a non-negative integer up to ${this.maxRecords}`);
    if (records !== null && !Array.isArray(records)) throw malformed(`channel ${channel}: records must be an array or null`);
    if (kind === 'data' && records === null) throw malformed(`channel ${channel}: a data frame needs records`);
    if ((records === null ? 0 : (records as unknown[]).length) !== count) {
      throw malformed(`channel ${channel}: records length ${records === null ? 'null' : (records as unknown[]).length} does not match count ${count}`);
    }
    if (barrier !== null && !isBarrier(barrier)) throw malformed(`channel ${channel}: invalid barrier`);
    if (kind === 'barrier' && barrier === null) throw malformed(`channel ${channel}: a barrier frame needs a barrier`);
    if (watermark !== null && (typeof watermark !== 'number' || Number.isNaN(watermark))) throw malformed(`channel ${channel}: watermark must be a number or null`);
    // A watermark frame without a watermark is an idle marker (makeWatermarkFrame(channel, seq, null)).
    if (determinants !== null && !isDeterminants(determinants)) throw malformed(`channel ${channel}: invalid determinants`);
    if (kind === 'determinants' && determinants === null) throw malformed(`channel ${channel}: a determinants frame needs determinants`);
    if (timestamps !== null && !(Array.isArray(timestamps) && timestamps.length === count && timestamps.every((t) => typeof t === 'number'))) {
      throw malformed(`channel ${channel}: timestamps must be an array of ${count} numbers or absent`);
    }
    // Same field order as makeFrame, so decoded frames share the hidden class of local ones.
    return {
      channel,
      kind: kind as FrameKind,
      seq: seq as number,
      count: count as number,
      records: records as unknown[] | null,
      barrier: barrier as Barrier | null,
      watermark: watermark as number | null,
      determinants: determinants as Determinant[] | null,
      timestamps: timestamps as number[] | null,
    };
  }
}

function malformed(message: string, cause?: unknown): TransportError {
  return new TransportError('FRAME_MALFORMED', `malformed frame: ${message}`, cause === undefined ? undefined : { cause });
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isBarrier(v: unknown): v is Barrier {
  if (!isPlainObject(v)) return false;
  return isCount(v.checkpointId) && typeof v.timestamp === 'number' && Number.isFinite(v.timestamp) && typeof v.type === 'string' && BARRIER_TYPES.has(v.type);
}

function isDeterminants(v: unknown): v is Determinant[] {
  if (!Array.isArray(v)) return false;
  for (const d of v) if (!isPlainObject(d) || !isDeterminant(d)) return false;
  return true;
}
