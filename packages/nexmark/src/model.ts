/**
 * The Nexmark data model, field for field as the nexmark project's `Person`, `Auction` and `Bid`
 * (nexmark-flink `model/`), with a `type` discriminant so one stream can carry all three.
 * Ids and prices are JS numbers (exact up to 2^53, far beyond what a run generates); times are
 * epoch milliseconds; prices are in cents.
 */

/** A person joining the auction site (one in 50 events). */
export interface Person {
  readonly type: 'person';
  /** Unique, increasing from 1000 in event order. */
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  /** A US state: AZ, CA, ID, OR, WA or WY. */
  readonly state: string;
  /** Event time, epoch ms. */
  readonly dateTime: number;
  /** Padding that brings the event to its average size. */
  readonly extra: string;
}

/** An item put up for auction by a person (3 in 50 events). */
export interface Auction {
  readonly type: 'auction';
  /** Unique, increasing from 1000 in event order. */
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  /** Cents. */
  readonly initialBid: number;
  /** Cents, above `initialBid`. */
  readonly reserve: number;
  /** Event time, epoch ms. */
  readonly dateTime: number;
  /** When the auction closes, epoch ms (after `dateTime`). */
  readonly expires: number;
  /** The id of a person that exists when the auction is created. */
  readonly seller: number;
  /** 10 to 14. */
  readonly category: number;
  readonly extra: string;
}

/** A bid on an auction (46 in 50 events). */
export interface Bid {
  readonly type: 'bid';
  /** The id of an auction, most often a recent one. */
  readonly auction: number;
  /** The id of a person, most often a recent one. */
  readonly bidder: number;
  /** Cents. */
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  /** Event time, epoch ms. */
  readonly dateTime: number;
  readonly extra: string;
}

/** One Nexmark event: `event.type` tells which. */
export type Event = Person | Auction | Bid;
