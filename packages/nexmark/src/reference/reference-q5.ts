import type { Event } from '../model.js';
import type { Q5Row } from '../query-rows.js';
import { bidsOf } from './bids-of.js';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, hopStarts } from './window-bounds.js';

/**
 * q5, hot items: bids counted per auction in windows of 10 s sliding by 2 s (HOP); in each
 * window, every auction whose count is the window's highest (`num >= maxn`, so ties all appear).
 * Rows ordered by window start, then auction.
 */
export function referenceQ5(events: readonly Event[]): Q5Row[] {
  const counts = new Map<number, Map<number, number>>();
  for (const b of bidsOf(events)) {
    for (const start of hopStarts(b.dateTime, Q5_WINDOW_MS, Q5_SLIDE_MS)) {
      let perAuction = counts.get(start);
      if (perAuction === undefined) counts.set(start, (perAuction = new Map()));
      perAuction.set(b.auction, (perAuction.get(b.auction) ?? 0) + 1);
    }
  }
  const rows: Q5Row[] = [];
  for (const start of [...counts.keys()].sort((x, y) => x - y)) {
    const perAuction = counts.get(start)!;
    const maxn = Math.max(...perAuction.values());
    for (const auction of [...perAuction.keys()].sort((x, y) => x - y)) {
      const num = perAuction.get(auction)!;
      if (num >= maxn) rows.push({ auction, num, windowStart: start, windowEnd: start + Q5_WINDOW_MS });
    }
  }
  return rows;
}
