/**
 * The random numbers of one event. Beam's generator draws each event from `new Random(eventId)`,
 * which makes an event a function of its number; here the stream is reseeded from (seed, event
 * number) before each event for the same reason, so event n is computed without events 0..n-1
 * and a source task can start anywhere. Mulberry32 over a murmur3-mixed seed: fast, 32-bit,
 * and more than random enough for synthetic auctions. One instance is reused for every event,
 * so the per-event path allocates nothing here.
 */
export class EventRandom {
  private state = 0;

  /** Starts the stream of event `eventNumber` under `seed`. */
  reset(seed: number, eventNumber: number): void {
    const lo = eventNumber >>> 0;
    const hi = Math.floor(eventNumber / 4294967296) >>> 0;
    let h = fmix32((seed | 0) ^ 0x9e3779b9);
    h = fmix32(h ^ Math.imul(lo, 0x85ebca6b));
    h = fmix32(h ^ Math.imul(hi + 0x27d4eb2f, 0xc2b2ae35));
    this.state = h;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, bound) (bound >= 1, up to 2^53). */
  nextInt(bound: number): number {
    if (bound <= 4294967296) return Math.floor((this.nextUint32() / 4294967296) * bound);
    return Math.floor(this.nextDouble() * bound);
  }
}

/** murmur3's 32-bit finalizer. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
