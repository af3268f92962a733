import type { ResolvedNexmarkConfig } from './generator-config.js';

/**
 * Which person and auction an event number refers to, as the nexmark project's
 * `PersonGenerator` / `AuctionGenerator`: events come in epochs of `total` (50 by default)
 * numbers, the first `personProportion` of an epoch are persons, the next `auctionProportion`
 * auctions, the rest bids. Ids are base 0 here; the generator adds 1000.
 */

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
/** A random seller or bidder may be up to this many persons ahead of the last one created (as the reference). */
export const PERSON_ID_LEAD = 10;
/** A random bid may be on an auction up to this many ahead of the last one created (as the reference). */
export const AUCTION_ID_LEAD = 10;

export const totalProportion = (c: ResolvedNexmarkConfig): number => c.personProportion + c.auctionProportion + c.bidProportion;

/** The last person created at or before event `eventId`. */
export function lastBase0PersonId(c: ResolvedNexmarkConfig, eventId: number): number {
  const total = totalProportion(c);
  const epoch = Math.floor(eventId / total);
  let offset = eventId % total;
  if (offset >= c.personProportion) offset = c.personProportion - 1;
  return epoch * c.personProportion + offset;
}

/** The last auction created at or before event `eventId` (-1 before the first). */
export function lastBase0AuctionId(c: ResolvedNexmarkConfig, eventId: number): number {
  const total = totalProportion(c);
  let epoch = Math.floor(eventId / total);
  let offset = eventId % total;
  if (offset < c.personProportion) {
    epoch--;
    offset = c.auctionProportion - 1;
  } else if (offset >= c.personProportion + c.auctionProportion) {
    offset = c.auctionProportion - 1;
  } else {
    offset -= c.personProportion;
  }
  return epoch * c.auctionProportion + offset;
}
