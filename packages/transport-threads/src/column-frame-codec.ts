import { TransportError, makeFrame, type Codec, type Frame } from '@mobius/interface';
import { MsgpackCodec } from '@mobius/plugin-kit';

/**
 * The first byte of a column frame. A msgpack frame is an array and starts with 0x90..0x9f or
 * 0xdc/0xdd, never with 0x01 (a positive fixint), so the first byte tells the layouts apart.
 */
const COLUMNS = 1;

/** V8 keeps a substring this long or longer as a slice of its parent (which it keeps alive); shorter ones are copies. */
const SLICE_MIN_LENGTH = 13;

/** The shapes of data frames the column layout takes; any other frame goes as msgpack. */
const STRINGS = 1;
const NUMBERS = 2;
const STRING_NUMBER_PAIRS = 3;

/** tag(1) shape(1) pad(2) count(4) channel length(4) seq as f64 at 16, then the channel, then the columns (8-aligned). */
const HEADER = 24;

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * The codec of the thread transport. Channels between threads carry mostly plain records:
 * strings, numbers, `[string, number]` pairs (a word count's). A data frame whose records all
 * have one of those shapes (and no determinants, watermark or record timestamps) goes as columns: the numbers as
 * float64 (exact, `-0` and `NaN` included), the strings as their UTF-16 code units one after
 * another (exact, lone surrogates included) with their lengths, copied code unit by code unit and
 * read back as one string that each record slices. That costs a fraction of msgpack
 * per record and allocates only the records. Every other frame goes through `MsgpackCodec`, the
 * network transport's, with its type checks (a class instance still fails with
 * `RECORD_TYPE_UNSUPPORTED`). Both layouts live only in this process's rings, never on a wire.
 */
export class ColumnFrameCodec implements Codec {
  readonly name = 'columns+msgpack';
  private readonly msgpack: MsgpackCodec;

  constructor(msgpack: MsgpackCodec = new MsgpackCodec()) {
    this.msgpack = msgpack;
  }

  encode(frame: Frame): Uint8Array {
    const shape = frame.kind === 'data' && frame.determinants === null && frame.watermark === null && frame.barrier === null && !frame.timestamps ? shapeOf(frame.records) : 0;
    return shape === 0 ? this.msgpack.encode(frame) : encodeColumns(frame, shape);
  }

  decode(bytes: Uint8Array): Frame {
    // MsgpackCodec checks its input (an empty or garbled one is FRAME_MALFORMED there).
    if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes[0] !== COLUMNS) return this.msgpack.decode(bytes);
    try {
      return decodeColumns(bytes);
    } catch (e) {
      throw new TransportError('FRAME_MALFORMED', `thread transport: malformed column frame (${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

/** The column shape every record has, or 0. */
function shapeOf(records: readonly unknown[] | null): number {
  if (records === null || records.length === 0) return 0;
  const first = records[0];
  if (typeof first === 'string') {
    for (let i = 1; i < records.length; i++) if (typeof records[i] !== 'string') return 0;
    return STRINGS;
  }
  if (typeof first === 'number') {
    for (let i = 1; i < records.length; i++) if (typeof records[i] !== 'number') return 0;
    return NUMBERS;
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as unknown[];
    if (typeof r !== 'object' || r === null || r.constructor !== Array || r.length !== 2 || typeof r[0] !== 'string' || typeof r[1] !== 'number') return 0;
  }
  return STRING_NUMBER_PAIRS;
}

function encodeColumns(frame: Frame, shape: number): Uint8Array {
  const records = frame.records!;
  const count = records.length;
  const channel = frame.channel;
  const hasStrings = shape !== NUMBERS;
  const hasNumbers = shape !== STRINGS;
  let chars = 0;
  if (shape === STRINGS) for (let i = 0; i < count; i++) chars += (records[i] as string).length;
  else if (shape === STRING_NUMBER_PAIRS) for (let i = 0; i < count; i++) chars += ((records[i] as unknown[])[0] as string).length;
  const numbersAt = align8(HEADER + channel.length * 2);
  const lengthsAt = numbersAt + (hasNumbers ? count * 8 : 0);
  const charsAt = lengthsAt + (hasStrings ? count * 4 : 0);
  // Not from Buffer's pool: the typed views below need an 8-aligned start.
  const out = Buffer.allocUnsafeSlow(charsAt + chars * 2);
  out[0] = COLUMNS;
  out[1] = shape;
  out.writeUInt16LE(0, 2);
  out.writeUInt32LE(count, 4);
  out.writeUInt32LE(channel.length, 8);
  out.writeUInt32LE(0, 12);
  out.writeDoubleLE(frame.seq, 16);
  out.write(channel, HEADER, 'utf16le');
  const numbers = hasNumbers ? new Float64Array(out.buffer, out.byteOffset + numbersAt, count) : undefined;
  const lengths = hasStrings ? new Uint32Array(out.buffer, out.byteOffset + lengthsAt, count) : undefined;
  // Code units one by one: for the short strings records hold, cheaper than a native call each.
  const units = hasStrings ? new Uint16Array(out.buffer, out.byteOffset + charsAt, chars) : undefined;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i];
    let s: string;
    if (shape === NUMBERS) {
      numbers![i] = r as number;
      continue;
    } else if (shape === STRINGS) {
      s = r as string;
    } else {
      s = (r as unknown[])[0] as string;
      numbers![i] = (r as unknown[])[1] as number;
    }
    const n = s.length;
    lengths![i] = n;
    for (let j = 0; j < n; j++) units![at + j] = s.charCodeAt(j);
    at += n;
  }
  return out;
}

function decodeColumns(bytes: Uint8Array): Frame {
  // Typed views need aligned offsets: copy a misaligned input once (the ring hands out fresh, aligned copies).
  const input = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = Buffer.from(input.buffer, input.byteOffset, input.length);
  if (buf.length < HEADER) throw new RangeError('shorter than the header');
  const shape = buf[1];
  if (shape !== STRINGS && shape !== NUMBERS && shape !== STRING_NUMBER_PAIRS) throw new RangeError(`unknown shape ${shape}`);
  const count = buf.readUInt32LE(4);
  const channelLength = buf.readUInt32LE(8);
  const seq = buf.readDoubleLE(16);
  const channel = buf.toString('utf16le', HEADER, HEADER + channelLength * 2);
  const hasStrings = shape !== NUMBERS;
  const hasNumbers = shape !== STRINGS;
  const numbersAt = align8(HEADER + channelLength * 2);
  const lengthsAt = numbersAt + (hasNumbers ? count * 8 : 0);
  const charsAt = lengthsAt + (hasStrings ? count * 4 : 0);
  if (charsAt > buf.length || channelLength === 0) throw new RangeError(`${count} records do not fit`);
  const numbers = hasNumbers ? new Float64Array(buf.buffer, buf.byteOffset + numbersAt, count) : undefined;
  const records: unknown[] = new Array(count);
  if (!hasStrings) {
    for (let i = 0; i < count; i++) records[i] = numbers![i];
    return makeFrame(channel, 'data', seq, records);
  }
  const lengths = new Uint32Array(buf.buffer, buf.byteOffset + lengthsAt, count);
  const text = buf.toString('utf16le', charsAt, buf.length);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const length = lengths[i];
    const end = at + length;
    if (end > text.length) throw new RangeError(`record ${i} runs past the end`);
    // A long substring would be a slice keeping the whole batch's text alive (as a state key, for
    // as long as the key lives): those are decoded on their own.
    const s = length < SLICE_MIN_LENGTH ? text.slice(at, end) : buf.toString('utf16le', charsAt + at * 2, charsAt + end * 2);
    at = end;
    records[i] = shape === STRINGS ? s : [s, numbers![i]];
  }
  return makeFrame(channel, 'data', seq, records);
}
