import type { Event } from '../model.js';
import type { Q8Row } from '../query-rows.js';
import { auctionsOf, personsOf } from './bids-of.js';
import { Q8_WINDOW_MS, tumbleStart } from './window-bounds.js';

/**
 * q8, monitor new users: persons grouped by (id, name, 10 s tumbling window) joined with sellers
 * grouped by (seller, window) on the same id and window: one row per person who created an
 * auction in the window they joined in. Rows ordered by window, then id.
 */
export function referenceQ8(events: readonly Event[]): Q8Row[] {
  const sellers = new Set<string>();
  for (const a of auctionsOf(events)) sellers.add(`${a.seller}@${tumbleStart(a.dateTime, Q8_WINDOW_MS)}`);
  const rows = new Map<string, Q8Row>();
  for (const p of personsOf(events)) {
    const stime = tumbleStart(p.dateTime, Q8_WINDOW_MS);
    if (sellers.has(`${p.id}@${stime}`)) rows.set(`${p.id}|${p.name}|${stime}`, { id: p.id, name: p.name, stime });
  }
  return [...rows.values()].sort((x, y) => x.stime - y.stime || x.id - y.id);
}
