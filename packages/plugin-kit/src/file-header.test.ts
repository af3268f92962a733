import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileHeader } from './file-header.js';

const header = new FileHeader({ magic: 'MOBC', version: 1, name: 'Mobius checkpoint state' });
const payload = Buffer.from('the state of one task, as bytes');

/** The layout written by hand, independently of the class: what files on disk already hold. */
function expectedBytes(data: Buffer): Buffer {
  const h = Buffer.alloc(48);
  h.write('MOBC', 0, 'ascii');
  h.writeUInt32BE(1, 4);
  h.writeBigUInt64BE(BigInt(data.length), 8);
  createHash('sha256').update(data).digest().copy(h, 16);
  return Buffer.concat([h, data]);
}

describe('FileHeader', () => {
  it('writes magic, version, length and sha256, big-endian, 48 bytes', () => {
    expect(FileHeader.BYTES).toBe(48);
    expect(header.wrap(payload).equals(expectedBytes(payload))).toBe(true);
    expect(header.encode(payload).equals(expectedBytes(payload).subarray(0, 48))).toBe(true);
  });

  it('verifies a good file and returns its payload', () => {
    const file = expectedBytes(payload);
    expect(header.verify(file)).toBeUndefined();
    expect(Buffer.from(header.payloadOf(file)).equals(payload)).toBe(true);
    expect(header.verify(header.wrap(new Uint8Array(0)))).toBeUndefined();
  });

  it('verifies a file that sits inside a larger buffer', () => {
    const big = Buffer.concat([Buffer.from('xxxxxxx'), expectedBytes(payload)]);
    const file = big.subarray(7);
    expect(header.verify(file)).toBeUndefined();
    expect(Buffer.from(header.payloadOf(file)).toString()).toBe(payload.toString());
  });

  it.each<[string, (b: Buffer) => Buffer, RegExp]>([
    ['a flipped payload bit', (b) => ((b[b.length - 1] ^= 1), b), /^sha256 checksum mismatch$/],
    ['a flipped checksum bit', (b) => ((b[20] ^= 1), b), /^sha256 checksum mismatch$/],
    ['another magic', (b) => ((b[0] = 0x58), b), /^bad magic \(not Mobius checkpoint state\)$/],
    ['another version', (b) => ((b[7] = 9), b), /^unsupported version 9$/],
    ['a truncated payload', (b) => b.subarray(0, b.length - 10), new RegExp(`^payload length ${payload.length} in the header but ${payload.length - 10} bytes stored$`)],
    ['bytes appended', (b) => Buffer.concat([b, Buffer.from('!')]), new RegExp(`^payload length ${payload.length} in the header but ${payload.length + 1} bytes stored$`)],
    ['a truncated header', (b) => b.subarray(0, 20), /^truncated header \(20 bytes\)$/],
    ['an empty file', () => Buffer.alloc(0), /^truncated header \(0 bytes\)$/],
  ])('refuses %s', (_what, corrupt, reason) => {
    expect(header.verify(corrupt(expectedBytes(payload)))).toMatch(reason);
  });

  it('checks a header read apart from its file, and a payload hashed in chunks', () => {
    const file = expectedBytes(payload);
    const head = file.subarray(0, 48);
    expect(header.check(head, file.length)).toBeUndefined();
    expect(header.check(head.subarray(0, 30), file.length)).toMatch(/truncated header/);
    const hash = header.hash();
    for (let i = 48; i < file.length; i += 5) hash.update(file.subarray(i, Math.min(i + 5, file.length)));
    expect(header.matches(head, hash)).toBe(true);
    const other = header.hash().update('something else');
    expect(header.matches(head, other)).toBe(false);
  });

  it('refuses a magic that is not four ASCII characters, and a version that is not a u32', () => {
    expect(() => new FileHeader({ magic: 'MOB', version: 1, name: 'x' })).toThrow(RangeError);
    expect(() => new FileHeader({ magic: 'MÖBC', version: 1, name: 'x' })).toThrow(RangeError);
    expect(() => new FileHeader({ magic: 'MOBC', version: -1, name: 'x' })).toThrow(RangeError);
  });
});
