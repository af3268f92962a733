import type { Event } from '../model.js';
import type { Q11Row } from '../query-rows.js';
import { bidsOf } from './bids-of.js';
import { Q11_SESSION_GAP_MS } from './window-bounds.js';

/**
 * q11, user sessions: each bidder's bids split into sessions wherever two consecutive bids (in
 * event time) are 10 s or more apart, as Flink's SESSION window (a bid extends its session to its
 * time + gap, end exclusive); per session the count, the first bid's time and the last bid's time
 * + 10 s. Rows ordered by bidder, then start.
 */
export function referenceQ11(events: readonly Event[]): Q11Row[] {
  const times = new Map<number, number[]>();
  for (const b of bidsOf(events)) {
    const t = times.get(b.bidder);
    if (t === undefined) times.set(b.bidder, [b.dateTime]);
    else t.push(b.dateTime);
  }
  const rows: Q11Row[] = [];
  for (const bidder of [...times.keys()].sort((x, y) => x - y)) {
    const ts = times.get(bidder)!.sort((x, y) => x - y);
    let start = ts[0]!;
    let last = start;
    let count = 0;
    for (const t of ts) {
      if (t >= last + Q11_SESSION_GAP_MS) {
        rows.push({ bidder, bidCount: count, starttime: start, endtime: last + Q11_SESSION_GAP_MS });
        start = t;
        count = 0;
      }
      last = t;
      count++;
    }
    rows.push({ bidder, bidCount: count, starttime: start, endtime: last + Q11_SESSION_GAP_MS });
  }
  return rows;
}
