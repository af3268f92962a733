import type { Event } from '../model.js';
import type { Q3Row } from '../query-rows.js';
import { auctionsOf, personsOf } from './bids-of.js';

/**
 * q3: `SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P ON A.seller = P.id
 * WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')`: every pair,
 * whatever the order the two arrived in.
 */
export function referenceQ3(events: readonly Event[]): Q3Row[] {
  const rows: Q3Row[] = [];
  const persons = personsOf(events).filter((p) => p.state === 'OR' || p.state === 'ID' || p.state === 'CA');
  for (const a of auctionsOf(events)) {
    if (a.category !== 10) continue;
    // A plain nested loop: the reference favours the obvious over the fast (person ids are unique anyway).
    for (const p of persons) if (p.id === a.seller) rows.push({ name: p.name, city: p.city, state: p.state, id: a.id });
  }
  return rows;
}
