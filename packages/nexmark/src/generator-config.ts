import { ConfigError } from '@mobius/interface';

/**
 * What a user may set. Names and defaults follow the nexmark project's `NexmarkConfiguration`
 * (`firstEventRate` is `eventsPerSecond` here); the rate is constant (no rate shape) and the
 * base time and seed are fixed by default, so that a configuration names one sequence of events.
 */
export interface NexmarkConfig {
  /** Seed of every random choice; the same seed (and options) gives the same events. Default 0. */
  readonly seed?: number;
  /** Number of events; `Infinity` (the default) for an unbounded stream. */
  readonly count?: number;
  /** Event-time rate: events per second of event time, over all source tasks together. Default 10,000. */
  readonly eventsPerSecond?: number;
  /** Event time of event 0, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly baseTime?: number;
  /** Default 1. */
  readonly personProportion?: number;
  /** Default 3. */
  readonly auctionProportion?: number;
  /** Default 46. */
  readonly bidProportion?: number;
  /** 1 in N bids goes to any in-flight auction, the others to the "hot" auction of the last 100. Default 2. */
  readonly hotAuctionRatio?: number;
  /** As `hotAuctionRatio`, for the seller of an auction. Default 4. */
  readonly hotSellersRatio?: number;
  /** As `hotAuctionRatio`, for the bidder of a bid. Default 4. */
  readonly hotBiddersRatio?: number;
  /** How many of the latest persons a random seller or bidder is drawn from. Default 1000. */
  readonly numActivePeople?: number;
  /** How many of the latest auctions a random bid is drawn from. Default 100. */
  readonly numInFlightAuctions?: number;
  /** Average size in bytes each kind is padded to with `extra`. Defaults 200, 500, 100. */
  readonly avgPersonByteSize?: number;
  readonly avgAuctionByteSize?: number;
  readonly avgBidByteSize?: number;
  /**
   * Events are shuffled inside groups of this many consecutive event numbers (1 = in order), so
   * event time runs out of order by less than one group's span. Not a multiple of 953 (the
   * shuffle multiplies by 953 modulo the size). Default 1.
   */
  readonly outOfOrderGroupSize?: number;
  /** Events a source task emits per `fetch` call (then a watermark). Default 1000. */
  readonly batchSize?: number;
}

/** A validated configuration with every default filled in. */
export type ResolvedNexmarkConfig = { readonly [K in keyof NexmarkConfig]-?: number };

export const DEFAULT_NEXMARK_CONFIG: ResolvedNexmarkConfig = Object.freeze({
  seed: 0,
  count: Infinity,
  eventsPerSecond: 10_000,
  baseTime: Date.UTC(2026, 0, 1),
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
  outOfOrderGroupSize: 1,
  batchSize: 1000,
});

const MAX_AVG_BYTES = 65_536;

const invalid = (key: string, message: string): ConfigError =>
  new ConfigError('CONFIG_INVALID_VALUE', `nexmark.${key}`, `nexmark option "${key}" ${message}`);

/** Fills in defaults and checks every option; throws `ConfigError` (`CONFIG_INVALID_VALUE`) naming the bad one. */
export function resolveNexmarkConfig(config: NexmarkConfig = {}): ResolvedNexmarkConfig {
  if (config === null || typeof config !== 'object') throw invalid('config', `must be an object, got ${String(config)}`);
  const out: Record<string, number> = { ...DEFAULT_NEXMARK_CONFIG };
  for (const [key, value] of Object.entries(config)) {
    if (!(key in DEFAULT_NEXMARK_CONFIG)) {
      throw new ConfigError('CONFIG_UNKNOWN_KEY', `nexmark.${key}`, `unknown nexmark option "${key}" (known: ${Object.keys(DEFAULT_NEXMARK_CONFIG).join(', ')})`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) throw invalid(key, `must be a number, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  const r = out as ResolvedNexmarkConfig;
  if (!Number.isSafeInteger(r.seed)) throw invalid('seed', `must be an integer, got ${r.seed}`);
  if (r.count !== Infinity && !(Number.isSafeInteger(r.count) && r.count >= 0)) {
    throw invalid('count', `must be a whole number of events >= 0 or Infinity, got ${r.count}`);
  }
  if (!(r.eventsPerSecond > 0 && Number.isFinite(r.eventsPerSecond))) throw invalid('eventsPerSecond', `must be > 0, got ${r.eventsPerSecond}`);
  if (!Number.isSafeInteger(r.baseTime)) throw invalid('baseTime', `must be an integer epoch time in ms, got ${r.baseTime}`);
  const atLeast = (key: keyof ResolvedNexmarkConfig, min: number): void => {
    const v = r[key];
    if (!(Number.isSafeInteger(v) && v >= min)) throw invalid(key, `must be an integer >= ${min}, got ${v}`);
  };
  atLeast('personProportion', 1);
  atLeast('auctionProportion', 1);
  atLeast('bidProportion', 0);
  atLeast('hotAuctionRatio', 1);
  atLeast('hotSellersRatio', 1);
  atLeast('hotBiddersRatio', 1);
  atLeast('numActivePeople', 1);
  atLeast('numInFlightAuctions', 1);
  atLeast('avgPersonByteSize', 0);
  atLeast('avgAuctionByteSize', 0);
  atLeast('avgBidByteSize', 0);
  atLeast('outOfOrderGroupSize', 1);
  for (const key of ['avgPersonByteSize', 'avgAuctionByteSize', 'avgBidByteSize'] as const) {
    if (r[key] > MAX_AVG_BYTES) throw invalid(key, `must be at most ${MAX_AVG_BYTES} (the padding is cut from a 1 MiB string), got ${r[key]}`);
  }
  atLeast('batchSize', 1);
  if (r.outOfOrderGroupSize % 953 === 0) {
    throw invalid('outOfOrderGroupSize', `must not be a multiple of 953 (the shuffle would repeat events), got ${r.outOfOrderGroupSize}`);
  }
  return Object.freeze(r);
}
