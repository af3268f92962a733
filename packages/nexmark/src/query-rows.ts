/**
 * The result rows of the Nexmark queries, named as the columns of the nexmark project's
 * `queries/q*.sql` sink tables (times in epoch ms). The engine queries and the references emit
 * the same shapes, so a test compares them directly.
 */

/** q0 (pass-through) and q7: a bid's columns. */
export interface BidRow {
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly dateTime: number;
  readonly extra: string;
}

/** q1: a bid with its price in euro cents (`0.908 * price`, exact to 3 decimals as DECIMAL(23, 3)). */
export type Q1Row = BidRow;

/** q2: bids on every 123rd auction. */
export interface Q2Row {
  readonly auction: number;
  readonly price: number;
}

/** q3: a seller in OR, ID or CA and one of their category-10 auctions. */
export interface Q3Row {
  readonly name: string;
  readonly city: string;
  readonly state: string;
  /** The auction's id. */
  readonly id: number;
}

/** q4: per category, the average of the winning (highest in-time) bid of its auctions. */
export interface Q4Row {
  readonly category: number;
  /** AVG over BIGINT in Flink SQL is a BIGINT: truncated. */
  readonly avgFinal: number;
}

/** q5: an auction with the most bids of one sliding window (ties all appear). */
export interface Q5Row {
  readonly auction: number;
  readonly num: number;
  readonly windowStart: number;
  readonly windowEnd: number;
}

/** q7: a bid with the highest price of its tumbling window (see the README for the window bounds). */
export type Q7Row = BidRow;

/** q8: a person who created an auction in the same tumbling window as they joined. */
export interface Q8Row {
  readonly id: number;
  readonly name: string;
  /** Start of the window, epoch ms. */
  readonly stime: number;
}

/** q11: the bids of one bidder's session. */
export interface Q11Row {
  readonly bidder: number;
  readonly bidCount: number;
  /** The session's first bid time. */
  readonly starttime: number;
  /** The session's last bid time plus the gap. */
  readonly endtime: number;
}
