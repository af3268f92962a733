import { TransportError } from '@mobius/interface';

/*
 * Layout of a ring's SharedArrayBuffer: a control block of Int32 words, then `capacity` bytes
 * of records. A record is a 4-byte header (payload length; the sign bit marks a piece of a
 * frame larger than the ring, more pieces follow) and the payload, padded to 4 bytes so the
 * next header never straddles the end of the ring. Positions are byte counters that wrap at
 * 2^32; with a power-of-two capacity, `position & mask` is the offset, wrap or not.
 */
const HEAD = 0; // bytes written; stored by the producer after the bytes themselves
const TAIL = 1; // bytes consumed; stored by the consumer
const FRAMES_READ = 2; // whole frames consumed: the sender's credits come back from here
const WRITER_WAITING = 3; // 1 while the producer waits for TAIL to move (so the consumer notifies only then)
const RECEIVER_CLOSED = 4;
const CONTROL_WORDS = 16;
const CONTROL_BYTES = CONTROL_WORDS * 4;
const HEADER = 4;
const PIECE = -0x80000000;
const LENGTH = 0x7fffffff;

/** Smallest and largest ring, bytes. */
export const MIN_RING_BYTES = 4096;
export const MAX_RING_BYTES = 1 << 30;

type WaitResult = { async: false; value: string } | { async: true; value: Promise<string> };
// Typed here: the project's lib (ES2023) does not declare Atomics.waitAsync, which Node 20 has.
const waitAsync = (Atomics as unknown as { waitAsync(ta: Int32Array, index: number, value: number): WaitResult }).waitAsync;

/** The ring's byte capacity for a requested size: the next power of two, checked. */
export function ringCapacity(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < MIN_RING_BYTES || bytes > MAX_RING_BYTES) {
    throw new TransportError('TRANSPORT_FAILED', `thread transport: ringBytes must be an integer in ${MIN_RING_BYTES}..${MAX_RING_BYTES}, got ${String(bytes)}`);
  }
  let capacity = MIN_RING_BYTES;
  while (capacity < bytes) capacity *= 2;
  return capacity;
}

const padded = (n: number): number => (n + 3) & ~3;

/**
 * A single-producer, single-consumer ring of encoded frames in a `SharedArrayBuffer`, shared by
 * the two threads of one channel. Neither side locks: the producer owns HEAD and the consumer
 * TAIL, each published with `Atomics.store` after the bytes it covers, so a side that loads the
 * other's counter sees every byte before it. A sleeping side is woken through `Atomics.notify`
 * only on the transitions it waits for (empty to non-empty; a writer that ran out of room),
 * never per frame.
 */
export class SharedFrameRing {
  readonly buffer: SharedArrayBuffer;
  /** Bytes of records the ring holds at most. */
  readonly capacity: number;
  /** True when the record just read by {@link read} is a piece of a frame (more pieces follow). */
  lastWasPiece = false;
  private readonly control: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;

  /** A new, empty ring of (at least) `bytes` bytes. */
  static create(bytes: number): SharedFrameRing {
    return new SharedFrameRing(new SharedArrayBuffer(CONTROL_BYTES + ringCapacity(bytes)));
  }

  /** The ring over a buffer made by {@link create}, e.g. in another thread. */
  constructor(buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength - CONTROL_BYTES;
    if (!(buffer instanceof SharedArrayBuffer) || capacity < MIN_RING_BYTES || (capacity & (capacity - 1)) !== 0) {
      throw new TransportError('TRANSPORT_FAILED', 'thread transport: not the buffer of a SharedFrameRing');
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.bytes = new Uint8Array(buffer, CONTROL_BYTES, capacity);
    this.words = new Int32Array(buffer, CONTROL_BYTES, capacity >> 2);
  }

  /** Bytes of records written and not yet read (headers and padding included). */
  get usedBytes(): number {
    return (Atomics.load(this.control, HEAD) - Atomics.load(this.control, TAIL)) | 0;
  }

  /** Whole frames the consumer has read since the ring was made (wraps at 2^31). */
  get framesRead(): number {
    return Atomics.load(this.control, FRAMES_READ);
  }

  get receiverClosed(): boolean {
    return Atomics.load(this.control, RECEIVER_CLOSED) !== 0;
  }

  /** Largest payload of one record: a frame longer than this goes in pieces. */
  get maxPayload(): number {
    return this.capacity - HEADER;
  }

  /** True when a record of `length` payload bytes fits the free space now. */
  fits(length: number): boolean {
    return HEADER + padded(length) <= this.capacity - this.usedBytes;
  }

  /** The largest piece that fits the free space now (a multiple of 4; 0 when there is no room). */
  pieceRoom(): number {
    return Math.max(0, (this.capacity - this.usedBytes - HEADER) & ~3);
  }

  /**
   * Producer: appends `source[from..to)` as one record (a piece when `piece`). The caller
   * checked the room ({@link fits}, {@link pieceRoom}).
   */
  write(source: Uint8Array, from: number, to: number, piece: boolean): void {
    const length = to - from;
    const head = Atomics.load(this.control, HEAD);
    const at = head & this.mask;
    this.words[at >> 2] = piece ? length | PIECE : length;
    const start = (at + HEADER) & this.mask;
    const first = Math.min(length, this.capacity - start);
    this.bytes.set(source.subarray(from, from + first), start);
    if (first < length) this.bytes.set(source.subarray(from + first, to), 0);
    Atomics.store(this.control, HEAD, (head + HEADER + padded(length)) | 0);
    // The consumer sleeps only on an empty ring: a TAIL still at the old HEAD means it may.
    if (Atomics.load(this.control, TAIL) === head) Atomics.notify(this.control, HEAD);
  }

  /** Consumer: true when a record is waiting. */
  readable(): boolean {
    return Atomics.load(this.control, HEAD) !== Atomics.load(this.control, TAIL);
  }

  /**
   * Consumer: the next record's payload, copied out of the ring (so its room is free at once),
   * or undefined when the ring is empty. Sets {@link lastWasPiece}.
   */
  read(): Uint8Array | undefined {
    const tail = Atomics.load(this.control, TAIL);
    if (Atomics.load(this.control, HEAD) === tail) return undefined;
    const at = tail & this.mask;
    const word = this.words[at >> 2];
    const length = word & LENGTH;
    this.lastWasPiece = word < 0;
    const out = new Uint8Array(length);
    const start = (at + HEADER) & this.mask;
    const first = Math.min(length, this.capacity - start);
    out.set(this.bytes.subarray(start, start + first));
    if (first < length) out.set(this.bytes.subarray(0, length - first), first);
    // FRAMES_READ before TAIL: a writer woken by TAIL sees the credit too.
    if (!this.lastWasPiece) Atomics.add(this.control, FRAMES_READ, 1);
    Atomics.store(this.control, TAIL, (tail + HEADER + padded(length)) | 0);
    if (Atomics.load(this.control, WRITER_WAITING) !== 0) {
      Atomics.store(this.control, WRITER_WAITING, 0);
      Atomics.notify(this.control, TAIL);
    }
    return out;
  }

  /** Consumer: calls `wake` once a record arrives (soon, if one already has). */
  whenReadable(wake: () => void): void {
    this.wait(HEAD, Atomics.load(this.control, TAIL), wake);
  }

  /** Bytes consumed so far (wrapping): what a producer samples before deciding it must wait. */
  get consumed(): number {
    return Atomics.load(this.control, TAIL);
  }

  /**
   * Producer: calls `wake` once the consumer's position differs from `seen`, a value of
   * {@link consumed} sampled before the producer found itself blocked. A read after that sample
   * either moved TAIL away from `seen` (the wait returns at once) or comes after the flag is
   * raised here and notifies; sampling TAIL only now would miss a read in between.
   */
  whenConsumed(seen: number, wake: () => void): void {
    Atomics.store(this.control, WRITER_WAITING, 1);
    this.wait(TAIL, seen, wake);
  }

  /** Consumer: marks the channel closed and wakes a waiting producer (and the consumer's own wait, so it is released). */
  closeReceiver(): void {
    Atomics.store(this.control, RECEIVER_CLOSED, 1);
    this.wakeAll();
  }

  /** Wakes every waiter of this ring, in every thread (they re-check their state and find it closed). */
  wakeAll(): void {
    Atomics.notify(this.control, HEAD);
    Atomics.notify(this.control, TAIL);
  }

  private wait(index: number, value: number, wake: () => void): void {
    const result = waitAsync(this.control, index, value);
    if (result.async) void result.value.then(wake);
    else queueMicrotask(wake);
  }
}
