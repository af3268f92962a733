import { EventTimeSessionWindows, type Collector, type DataStream, type StreamingContext, type TimeWindow } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { Q11Row } from '../query-rows.js';
import { Q11_SESSION_GAP_MS } from '../reference/window-bounds.js';
import { COUNT_AGGREGATE } from './count-aggregate.js';
import { bidStream } from './nexmark-stream.js';

const byBidder = (b: Bid): number => b.bidder;

// A session window spans [first bid, last bid + gap): its bounds are the SQL's SESSION_START and SESSION_END.
function sessionRow(bidder: number, window: TimeWindow, counts: Iterable<number>, out: Collector<Q11Row>): void {
  for (const bidCount of counts) out.collect({ bidder, bidCount, starttime: window.start, endtime: window.end });
}

/** Nexmark q11, user sessions: per bidder, SESSION windows with a 10 s gap; the bid count and the session's bounds. */
export function q11(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q11Row> {
  return bidStream(ctx, config)
    .keyBy(byBidder)
    .window(EventTimeSessionWindows.withGap(Q11_SESSION_GAP_MS))
    .aggregate(COUNT_AGGREGATE, sessionRow)
    .name('q11');
}
