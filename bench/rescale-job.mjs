// The job of the rescale benchmarks (rescale-bench.mjs embedded, rescale-cluster-bench.mjs on a
// cluster, whose job module imports this file): a source reading an external log into which
// records arrive at a fixed rate, the map that turns a record number into a keyed record, and
// the reduce that counts per key and keeps the key's payload.
import { payloadMaker } from './payloads.mjs';

/** Characters of a key's payload. */
export const PAYLOAD_BYTES = 1000;
/** Records a source reads per fetch at most (a fetch runs the chained map for each). */
const FETCH_MAX = 512;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The external log (like a Kafka topic, a partition per source task): how many records have
 * arrived in each partition by now. The first `keys` records are there from `t0` on (they load
 * the state); then `rate` per second arrive, spread over the partitions.
 */
export class ArrivalClock {
  constructor({ t0, rate, keys, partitions }) {
    this.t0 = t0;
    this.perTaskPerMs = rate / partitions / 1000;
    this.preloaded = Math.ceil(keys / partitions);
  }
  arrived() {
    return this.preloaded + Math.floor(this.perTaskPerMs * (Date.now() - this.t0));
  }
}

/**
 * Reads its partition of the log: record g = offset × parallelism + index, as fast as it can
 * while it is behind. `highWater[index]` is the furthest offset read, by any job (a job
 * restored from a savepoint reads some again).
 */
export class LogSource {
  constructor(clock, highWater) {
    this.clock = clock;
    this.highWater = highWater;
    this.offset = 0;
    this.parallelism = 1;
    this.index = 0;
  }
  init(parallelism, index) {
    this.parallelism = parallelism;
    this.index = index;
  }
  async fetch(ctx) {
    const end = Math.min(this.clock.arrived(), this.offset + FETCH_MAX);
    if (end <= this.offset) {
      await sleep(1);
      return;
    }
    const p = this.parallelism;
    const i = this.index;
    for (let o = this.offset; o < end; o++) ctx.collect(o * p + i);
    this.offset = end;
    if (end > this.highWater[i]) this.highWater[i] = end;
  }
  snapshotState() {
    return this.offset;
  }
  restoreState(offset) {
    this.offset = offset;
  }
}

/**
 * The map: record g becomes [key, 1], and each of the first `keys` records, one per key,
 * [key, 1, payload] with a distinct payload that does not compress (payloads.mjs).
 */
export function parseRecord(keys) {
  const payloadOf = payloadMaker(PAYLOAD_BYTES);
  return (g) => (g < keys ? [g, 1, payloadOf(g)] : [(Math.imul(g, 0x9e3779b1) >>> 0) % keys, 1]);
}

/** The reduce: the key's count and its payload (a key's first record may come without it). */
export const countWithPayload = (a, b) => [a[0], a[1] + b[1], a[2] ?? b[2]];

/** A counter of time-ordered samples ({ t, [field] }) at time t, linear between samples. */
export function sampledAt(samples, field, t) {
  if (samples.length === 0) return 0;
  if (t <= samples[0].t) return samples[0][field];
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i];
    if (b.t >= t) {
      const a = samples[i - 1];
      return b.t === a.t ? b[field] : a[field] + ((b[field] - a[field]) * (t - a.t)) / (b.t - a.t);
    }
  }
  return samples[samples.length - 1][field];
}
