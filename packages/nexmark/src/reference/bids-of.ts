import type { Auction, Bid, Event, Person } from '../model.js';

/** The bids of an event list, in order. */
export const bidsOf = (events: readonly Event[]): Bid[] => events.filter((e): e is Bid => e.type === 'bid');
export const auctionsOf = (events: readonly Event[]): Auction[] => events.filter((e): e is Auction => e.type === 'auction');
export const personsOf = (events: readonly Event[]): Person[] => events.filter((e): e is Person => e.type === 'person');
