import { StateError, type StateKey } from '@mobius/interface';

/**
 * On-disk key layout (all big-endian):
 *
 *   data key    = keyGroup:u16 | nameLength:u16 | name:utf8 | type:u8 | key bytes
 *   change mark = 0xFF 0x01 | epoch:u32 | data key            (value: empty)
 *   flush seq   = 0xFF 0x00                                  (value: batch id, u32)
 *
 * The key group comes first, so every key group (and every range of them) is one contiguous
 * range of the LevelDB key space. Key groups must be below 0xFF00; the 0xFF.. prefixes hold
 * the backend's own bookkeeping.
 */
export const MAX_KEY_GROUP = 0xfeff;

const TYPE_FALSE = 0x00;
const TYPE_TRUE = 0x01;
const TYPE_NUMBER = 0x6e; // 'n'
const TYPE_STRING = 0x73; // 's'

/** Start of the change marks: 0xFF 0x01. */
const MARK_PREFIX = [0xff, 0x01] as const;
export const FLUSH_SEQ_KEY: Uint8Array = Uint8Array.of(0xff, 0x00);

/** The bytes `keyGroup:u16 | nameLength:u16 | name` of a named state in a key group. */
export function namePrefix(name: string): Uint8Array {
  const utf8 = Buffer.from(name, 'utf8');
  if (utf8.length > 0xffff) throw new StateError('STATE_FAILED', `state name is too long (${utf8.length} bytes, at most 65535)`);
  const out = Buffer.allocUnsafe(2 + utf8.length);
  out.writeUInt16BE(utf8.length, 0);
  utf8.copy(out, 2);
  return out;
}

/** The data key of `key` in the state whose encoded name is `name` (see `namePrefix`). */
export function dataKey(keyGroup: number, name: Uint8Array, key: StateKey): Buffer {
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup > MAX_KEY_GROUP) {
    throw new StateError('STATE_FAILED', `key group ${keyGroup} of key ${String(key)} is outside 0..${MAX_KEY_GROUP}`);
  }
  let out: Buffer;
  const head = 2 + name.length;
  if (typeof key === 'string') {
    const len = Buffer.byteLength(key, 'utf8');
    out = Buffer.allocUnsafe(head + 1 + len);
    out[head] = TYPE_STRING;
    out.write(key, head + 1, 'utf8');
  } else if (typeof key === 'number') {
    out = Buffer.allocUnsafe(head + 9);
    out[head] = TYPE_NUMBER;
    // -0 and 0 are one key (as in a Map); every NaN is the same NaN.
    out.writeDoubleBE(key === 0 ? 0 : Number.isNaN(key) ? Number.NaN : key, head + 1);
  } else if (typeof key === 'boolean') {
    out = Buffer.allocUnsafe(head + 1);
    out[head] = key ? TYPE_TRUE : TYPE_FALSE;
  } else {
    throw new StateError('STATE_FAILED', `a state key must be a string, number or boolean, got ${typeof key}`);
  }
  out.writeUInt16BE(keyGroup, 0);
  out.set(name, 2);
  return out;
}

/** The key group of a data key. */
export function keyGroupOfDataKey(key: Uint8Array): number {
  return (key[0] << 8) | key[1];
}

/** The state name of a data key. */
export function nameOfDataKey(key: Uint8Array): string {
  const len = (key[2] << 8) | key[3];
  return Buffer.from(key.buffer, key.byteOffset + 4, len).toString('utf8');
}

/** First data key of key group `kg` (inclusive bound). */
export function groupStart(kg: number): Buffer {
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(kg, 0);
  return out;
}

/** The change mark of `dataKey` written in `epoch`. */
export function markKey(epoch: number, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(6 + key.length);
  out[0] = MARK_PREFIX[0];
  out[1] = MARK_PREFIX[1];
  out.writeUInt32BE(epoch, 2);
  out.set(key, 6);
  return out;
}

/** First mark key of `epoch` (inclusive bound); `epoch + 1` gives the exclusive end. */
export function markStart(epoch: number): Buffer {
  const out = Buffer.allocUnsafe(6);
  out[0] = MARK_PREFIX[0];
  out[1] = MARK_PREFIX[1];
  out.writeUInt32BE(epoch, 2);
  return out;
}

/** Exclusive end of all data keys. */
export const DATA_END: Uint8Array = Uint8Array.of(0xff, 0x00);
/** Exclusive end of all change marks. */
export const MARKS_END: Uint8Array = Uint8Array.of(0xff, 0x02);
