import { open, type FileHandle } from 'node:fs/promises';
import type { SourceContext, SourceFunction } from '@mobius/interface';

const NEWLINE = 0x0a;
const CR = 0x0d;

/** A read in flight: `bytesRead` bytes land in `buf` after a copy of `carry`, from file offset `position`. */
interface ChunkRead {
  readonly position: number;
  readonly carry: Buffer;
  readonly buf: Buffer;
  readonly bytesRead: Promise<number>;
}

/**
 * readTextFile: streams lines, never holding the file. Task i of n owns the byte range
 * [i·size/n, (i+1)·size/n) and reads every line that starts inside it (the last one may run
 * past the range end), so each line is read by exactly one task.
 */
export class TextFileSource implements SourceFunction<string> {
  private file: FileHandle | undefined;
  /** File offset of the next byte to read. */
  private position = 0;
  private rangeEnd = 0;
  /** Bytes of a line not yet complete, and the file offset where it starts. */
  private carry: Buffer = Buffer.alloc(0);
  private carryStart = 0;
  private lines: string[] = [];
  private lineIndex = 0;
  /** The bytes the pending lines were decoded from, and the file offset of their first line. */
  private linesData: Buffer = Buffer.alloc(0);
  private linesStart = 0;
  private linesFileOffset = 0;
  private eof = false;
  private skipFirstLine = false;
  /** The read of the next chunk, started while the current one's lines are emitted. */
  private ahead: ChunkRead | undefined;

  constructor(
    private readonly path: string,
    private readonly batchSize: number,
    private readonly chunkSize = 1 << 20,
  ) {}

  async init(parallelism: number, index: number): Promise<void> {
    this.file = await open(this.path, 'r');
    const size = (await this.file.stat()).size;
    const start = Math.floor((index * size) / parallelism);
    this.rangeEnd = Math.floor(((index + 1) * size) / parallelism);
    // A line starts at `start` only if the byte before it is a newline: read from start-1 and
    // drop everything up to the first newline.
    this.position = start === 0 ? 0 : start - 1;
    this.carryStart = this.position;
    this.skipFirstLine = start > 0;
    if (start >= this.rangeEnd) this.eof = true;
  }

  fetch(ctx: SourceContext<string>): void | Promise<void> {
    if (this.lineIndex < this.lines.length) {
      this.emit(ctx);
      return;
    }
    if (this.eof) {
      ctx.end();
      return;
    }
    return this.readChunk().then(() => {
      this.readAhead();
      this.emit(ctx);
    });
  }

  private emit(ctx: SourceContext<string>): void {
    const lines = this.lines;
    const stop = Math.min(lines.length, this.lineIndex + this.batchSize);
    for (let i = this.lineIndex; i < stop; i++) ctx.collect(lines[i]);
    this.lineIndex = stop;
    if (stop === lines.length) {
      this.lines = [];
      this.lineIndex = 0;
      if (this.eof) ctx.end();
    }
  }

  /** Reads the next chunk behind what is carried (at most one read is in flight). */
  private startRead(): ChunkRead {
    const carry = this.carry;
    // A line longer than a chunk makes the next read at least as large as what is carried, so a
    // huge line costs linear (not quadratic) copying.
    const readSize = Math.max(this.chunkSize, carry.length);
    const buf = Buffer.allocUnsafe(carry.length + readSize);
    carry.copy(buf, 0);
    const bytesRead = this.file!.read(buf, carry.length, readSize, this.position).then((r) => r.bytesRead);
    return { position: this.position, carry, buf, bytesRead };
  }

  /**
   * Starts reading the next chunk while the lines of this one go through the chain, so the
   * next fetch finds its bytes there instead of waiting for the thread pool (a wait that costs a
   * descheduling on a busy machine). Memory: one chunk more.
   */
  private readAhead(): void {
    if (this.eof || this.file === undefined || this.ahead !== undefined) return;
    const ahead = this.startRead();
    // Awaited (and its error thrown) by the fetch that takes it; one dropped by a restore is not.
    ahead.bytesRead.catch(() => undefined);
    this.ahead = ahead;
  }

  private async readChunk(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const read = ahead !== undefined && ahead.position === this.position && ahead.carry === this.carry ? ahead : this.startRead();
    const bytesRead = await read.bytesRead;
    this.position += bytesRead;
    const data = read.buf.subarray(0, read.carry.length + bytesRead);
    const base = this.carryStart; // file offset of data[0]
    let from = 0;
    if (this.skipFirstLine) {
      const nl = data.indexOf(NEWLINE);
      if (nl < 0) {
        // These bytes belong to a line that started before the range: drop them rather than
        // carry them. Once the range end is passed without a newline, no line starts inside it.
        if (bytesRead === 0 || base + data.length >= this.rangeEnd) this.finishRange();
        else this.keep(Buffer.alloc(0), base + data.length, false);
        return;
      }
      this.skipFirstLine = false;
      from = nl + 1;
      if (base + from >= this.rangeEnd) {
        this.finishRange(); // our first line would start past the range: the next task owns it
        return;
      }
    }
    if (bytesRead === 0) {
      // End of file: the last line has no newline.
      if (from < data.length && base + from < this.rangeEnd) this.setLines([stripCr(data.toString('utf8', from))], data, from, base);
      this.eof = true;
      this.carry = Buffer.alloc(0);
      return;
    }
    const lastNl = data.lastIndexOf(NEWLINE);
    if (lastNl < from) {
      this.keep(data.subarray(from), base + from, false);
      return;
    }
    if (base + lastNl < this.rangeEnd) {
      // Every complete line here starts before the range end: decode them in one go.
      const lines = data.toString('utf8', from, lastNl).split('\n');
      // A second pass over every line only for files that have carriage returns at all.
      if (data.indexOf(CR, from) >= 0) for (let i = 0; i < lines.length; i++) lines[i] = stripCr(lines[i]);
      this.setLines(lines, data, from, base);
      this.keep(data.subarray(lastNl + 1), base + lastNl + 1, false);
      if (base + lastNl + 1 >= this.rangeEnd) this.finishRange();
      return;
    }
    // The range ends inside this chunk: take the lines that start before it.
    const lines: string[] = [];
    let start = from;
    while (start < data.length && base + start < this.rangeEnd) {
      const nl = data.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.keep(data.subarray(start), base + start, false);
        this.setLines(lines, data, from, base);
        return; // the line continues in the next chunk
      }
      lines.push(stripCr(data.toString('utf8', start, nl)));
      start = nl + 1;
    }
    this.setLines(lines, data, from, base);
    this.finishRange();
  }

  private keep(bytes: Buffer, start: number, eof: boolean): void {
    this.carry = Buffer.from(bytes);
    this.carryStart = start;
    if (eof) this.finishRange();
  }

  private finishRange(): void {
    this.eof = true;
    this.carry = Buffer.alloc(0);
  }

  private setLines(lines: string[], data: Buffer, start: number, base: number): void {
    this.lines = lines;
    this.lineIndex = 0;
    this.linesData = data;
    this.linesStart = start;
    this.linesFileOffset = base;
  }

  /**
   * The file offset of the next line to emit (the checkpoint offset). Lines already decoded but
   * not yet emitted are counted back by scanning their newlines: only when a snapshot is taken,
   * never per line.
   */
  snapshotState(): number {
    if (this.lineIndex < this.lines.length) {
      let pos = this.linesStart;
      for (let i = 0; i < this.lineIndex; i++) pos = this.linesData.indexOf(NEWLINE, pos) + 1;
      return this.linesFileOffset + pos;
    }
    return this.eof ? Math.max(this.rangeEnd, this.carryStart) : this.carryStart;
  }

  /** Resumes at an offset from snapshotState() (called after init()). */
  restoreState(state: unknown): void {
    const offset = state as number;
    this.position = offset;
    this.carryStart = offset;
    this.carry = Buffer.alloc(0);
    this.lines = [];
    this.lineIndex = 0;
    this.skipFirstLine = false;
    this.eof = offset >= this.rangeEnd;
    this.ahead = undefined;
  }

  async close(): Promise<void> {
    await this.ahead?.bytesRead.catch(() => undefined);
    this.ahead = undefined;
    await this.file?.close();
    this.file = undefined;
  }
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}
