import { makeFrame, type ChannelReceiver, type ChannelSender, type Frame } from '@mobius/interface';

/** A data frame of `records` on `channel`, first record numbered `seq`. */
export function frameOf<R>(channel: string, seq: number, records: readonly R[]): Frame<R> {
  return makeFrame(channel, 'data', seq, records);
}

/** Lets pending I/O callbacks and promise reactions run (one turn of the event loop). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until `condition()` holds, checking after every event-loop turn (and at least every
 * 5 ms), for network arrival. Rejects with `what` in the message after `timeoutMs`.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let turns = 0;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // Mostly setImmediate (fast), with a short timer now and then so timers of the transport run.
    await (++turns % 16 === 0 ? new Promise((resolve) => setTimeout(resolve, 5)) : settle());
  }
}

/** Resolves with `promise`'s value, or rejects naming `what` after `timeoutMs`. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Collects frames from `rx` (through its readable listener) until `count` arrived; resolves
 * with them in arrival order. Replaces the receiver's listener; polls no frame beyond `count`.
 */
export function collectFrames(rx: ChannelReceiver, count: number, timeoutMs = 10_000): Promise<Frame[]> {
  const got: Frame[] = [];
  const done = new Promise<Frame[]>((resolve) => {
    const drain = (): void => {
      if (got.length >= count) return; // done: leave later frames to the next reader
      for (let f = rx.poll(); f !== undefined; f = rx.poll()) {
        got.push(f);
        if (got.length === count) {
          resolve(got);
          return;
        }
      }
    };
    rx.onReadable(drain);
    drain();
  });
  return within(done, `${count} frames on channel ${rx.channel}`, timeoutMs).catch((e: unknown) => {
    throw new Error(`${(e as Error).message} (got ${got.length})`);
  });
}

/** Sends `frame`, waiting for credit as long as needed (the runtime's loop). */
export async function sendWhenWritable(tx: ChannelSender, frame: Frame, timeoutMs = 10_000): Promise<void> {
  while (!tx.trySend(frame)) await within(tx.whenWritable(), `credit on channel ${tx.channel}`, timeoutMs);
}

/** A small deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` pseudo-random bytes. */
export function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}
