import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid, Event } from '../model.js';
import { NexmarkSource } from '../nexmark-source.js';

/** The stream of every Nexmark event of `config`, at the context's default parallelism. */
export function nexmarkStream(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Event> {
  return ctx.source(new NexmarkSource(config)).name('nexmark');
}

const isBid = (e: Event): boolean => e.type === 'bid';

/** The bids only (chained after the source: no copy, no network). `filter` keeps its input type; the predicate makes the cast true. */
export function bidStream(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Bid> {
  return nexmarkStream(ctx, config).filter(isBid).name('bids') as DataStream<Bid>;
}
