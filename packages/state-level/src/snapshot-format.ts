import { CheckpointError } from '@mobius/interface';

/**
 * The bytes of one key group in a snapshot:
 *
 *   magic 'ML' | version:u8 (1) | flags:u8 (bit 0: incremental) | count:u32
 *   then `count` entries: keyLength:u32 | key | kind:u8 (0 put, 1 tombstone) | [valueLength:u32 | value]
 *
 * Keys are the on-disk data keys without their 2-byte key-group prefix (the group is the map
 * key of `StateSnapshot.groups`); values are the serialized values as stored on disk, so a
 * snapshot copies bytes and never decodes a value.
 */
export interface GroupEntry {
  readonly key: Uint8Array;
  /** undefined: a tombstone (the key was deleted since the base snapshot). */
  readonly value: Uint8Array | undefined;
}

const HEADER = 8;

export function encodeGroup(entries: readonly GroupEntry[], incremental: boolean): Uint8Array {
  let size = HEADER;
  for (const e of entries) size += 4 + e.key.length + 1 + (e.value === undefined ? 0 : 4 + e.value.length);
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x4d; // M
  out[1] = 0x4c; // L
  out[2] = 1;
  out[3] = incremental ? 1 : 0;
  out.writeUInt32BE(entries.length, 4);
  let at = HEADER;
  for (const e of entries) {
    out.writeUInt32BE(e.key.length, at);
    out.set(e.key, at + 4);
    at += 4 + e.key.length;
    if (e.value === undefined) {
      out[at++] = 1;
    } else {
      out[at++] = 0;
      out.writeUInt32BE(e.value.length, at);
      out.set(e.value, at + 4);
      at += 4 + e.value.length;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function decodeGroup(bytes: Uint8Array, what: string): GroupEntry[] {
  const corrupt = (why: string): CheckpointError => new CheckpointError('CHECKPOINT_CORRUPT', `${what}: ${why}`);
  if (bytes.length < HEADER || bytes[0] !== 0x4d || bytes[1] !== 0x4c) throw corrupt('not a level state snapshot group');
  if (bytes[2] !== 1) throw corrupt(`unknown format version ${bytes[2]}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = buf.readUInt32BE(4);
  const out: GroupEntry[] = new Array(count);
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + 5 > buf.length) throw corrupt('truncated');
    const keyLen = buf.readUInt32BE(at);
    at += 4;
    if (at + keyLen + 1 > buf.length) throw corrupt('truncated');
    const key = buf.subarray(at, at + keyLen);
    at += keyLen;
    const kind = buf[at++];
    if (kind === 1) {
      out[i] = { key, value: undefined };
    } else if (kind === 0) {
      if (at + 4 > buf.length) throw corrupt('truncated');
      const valLen = buf.readUInt32BE(at);
      at += 4;
      if (at + valLen > buf.length) throw corrupt('truncated');
      out[i] = { key, value: buf.subarray(at, at + valLen) };
      at += valLen;
    } else {
      throw corrupt(`unknown entry kind ${kind}`);
    }
  }
  if (at !== buf.length) throw corrupt('trailing bytes');
  return out;
}
