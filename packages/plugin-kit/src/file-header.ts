import { createHash, type Hash } from 'node:crypto';

/** What a {@link FileHeader} writes and expects. */
export interface FileHeaderFormat {
  /** Four ASCII characters that start every file, e.g. `MOBC`. */
  readonly magic: string;
  /** The format version written; any other version is refused. */
  readonly version: number;
  /** What a file with another magic is not, for the error text, e.g. `Mobius checkpoint state`. */
  readonly name: string;
}

/**
 * A checksummed header in front of a payload, for files and stored values that must be refused
 * when truncated, foreign or corrupt rather than misread. Layout, big-endian, 48 bytes:
 *
 *     magic (4 bytes) | version (u32) | payload length (u64) | sha256 of the payload (32 bytes)
 *
 * Checks return the reason a file is bad as a string (or undefined), so that each store wraps it
 * in its own typed error with its own context (a path, a handle).
 */
export class FileHeader {
  static readonly BYTES = 4 + 4 + 8 + 32;
  private readonly magic: Buffer;

  constructor(readonly format: FileHeaderFormat) {
    this.magic = Buffer.from(format.magic, 'ascii');
    if (this.magic.byteLength !== 4 || this.magic.toString('ascii') !== format.magic) {
      throw new RangeError(`a file header magic is 4 ASCII characters, got ${JSON.stringify(format.magic)}`);
    }
    if (!Number.isInteger(format.version) || format.version < 0 || format.version > 0xffff_ffff) {
      throw new RangeError(`a file header version is a u32, got ${String(format.version)}`);
    }
  }

  /** The 48-byte header of `payload`. */
  encode(payload: Uint8Array): Buffer {
    const header = Buffer.alloc(FileHeader.BYTES);
    this.magic.copy(header, 0);
    header.writeUInt32BE(this.format.version, 4);
    header.writeBigUInt64BE(BigInt(payload.byteLength), 8);
    createHash('sha256').update(payload).digest().copy(header, 16);
    return header;
  }

  /** Header and payload in one new buffer (a copy: the caller may reuse `payload`). */
  wrap(payload: Uint8Array): Buffer {
    return Buffer.concat([this.encode(payload), payload]);
  }

  /**
   * Checks a header against the size of the whole file (header included), without the
   * checksum; the reason it is bad, or undefined. `header` may be shorter than 48 bytes (a short read).
   */
  check(header: Uint8Array, totalBytes: number): string | undefined {
    const bytes = FileHeader.BYTES;
    if (totalBytes < bytes || header.byteLength < bytes) return `truncated header (${totalBytes} bytes)`;
    const view = Buffer.from(header.buffer, header.byteOffset, bytes);
    if (!view.subarray(0, 4).equals(this.magic)) return `bad magic (not ${this.format.name})`;
    const version = view.readUInt32BE(4);
    if (version !== this.format.version) return `unsupported version ${version}`;
    const length = view.readBigUInt64BE(8);
    if (length !== BigInt(totalBytes - bytes)) return `payload length ${length} in the header but ${totalBytes - bytes} bytes stored`;
    return undefined;
  }

  /** True when the checksum in `header` is that of the data fed to `hash` (see {@link FileHeader.hash}). */
  matches(header: Uint8Array, hash: Hash): boolean {
    return hash.digest().equals(Buffer.from(header.buffer, header.byteOffset + 16, 32));
  }

  /** A fresh sha256, for checking a payload read in chunks. */
  hash(): Hash {
    return createHash('sha256');
  }

  /** Checks a whole file held in memory, checksum included; the reason it is bad, or undefined. */
  verify(file: Uint8Array): string | undefined {
    const problem = this.check(file, file.byteLength);
    if (problem !== undefined) return problem;
    if (!this.matches(file, this.hash().update(this.payloadOf(file)))) return 'sha256 checksum mismatch';
    return undefined;
  }

  /** The payload of a file (a view, no copy). */
  payloadOf(file: Uint8Array): Uint8Array {
    return new Uint8Array(file.buffer, file.byteOffset + FileHeader.BYTES, file.byteLength - FileHeader.BYTES);
  }
}
