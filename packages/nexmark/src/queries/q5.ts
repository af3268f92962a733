import { SlidingEventTimeWindows, TumblingEventTimeWindows, type Collector, type DataStream, type StreamingContext, type TimeWindow } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { Q5Row } from '../query-rows.js';
import { Q5_SLIDE_MS, Q5_WINDOW_MS } from '../reference/window-bounds.js';
import { COUNT_AGGREGATE } from './count-aggregate.js';
import { bidStream } from './nexmark-stream.js';

const byAuction = (b: Bid): number => b.auction;
const byWindowEnd = (r: Q5Row): number => r.windowEnd;

function countRow(auction: number, window: TimeWindow, counts: Iterable<number>, out: Collector<Q5Row>): void {
  for (const num of counts) out.collect({ auction, num, windowStart: window.start, windowEnd: window.end });
}

/** Every auction whose count is the window's highest: ties all kept, as the SQL's `num >= maxn`. */
function hottest(_windowEnd: number, _window: TimeWindow, rows: Iterable<Q5Row>, out: Collector<Q5Row>): void {
  // Two passes; an Iterable need not allow a second one, so copy unless it is an array (once per window, not per record).
  const all = Array.isArray(rows) ? (rows as readonly Q5Row[]) : [...rows];
  let max = 0;
  for (const r of all) if (r.num > max) max = r.num;
  for (const r of all) if (r.num === max) out.collect(r);
}

/**
 * Nexmark q5, hot items: bids counted per auction in HOP windows of 10 s sliding by 2 s, then per
 * window the auctions with the highest count. The first stage is keyed by auction; its rows carry
 * the event time `windowEnd - 1` (a window's result time), so the second stage, keyed by window
 * end, collects all counts of one sliding window in the 2 s tumbling window that ends with it and
 * fires once the watermark says every count of that window has come.
 */
export function q5(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q5Row> {
  return bidStream(ctx, config)
    .keyBy(byAuction)
    .window(SlidingEventTimeWindows.of(Q5_WINDOW_MS, Q5_SLIDE_MS))
    .aggregate(COUNT_AGGREGATE, countRow)
    .name('q5-counts')
    .keyBy(byWindowEnd)
    .window(TumblingEventTimeWindows.of(Q5_SLIDE_MS))
    .apply(hottest)
    .name('q5');
}
