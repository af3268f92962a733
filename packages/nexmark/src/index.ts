// Data model
export type { Person, Auction, Bid, Event } from './model.js';
// Generator
export { DEFAULT_NEXMARK_CONFIG, resolveNexmarkConfig } from './generator-config.js';
export type { NexmarkConfig, ResolvedNexmarkConfig } from './generator-config.js';
export { NexmarkGenerator } from './nexmark-generator.js';
export { nexmarkEvents, generateEvents } from './nexmark-events.js';
export { NexmarkSource } from './nexmark-source.js';
export { FIRST_PERSON_ID, FIRST_AUCTION_ID, FIRST_CATEGORY_ID, PERSON_ID_LEAD, AUCTION_ID_LEAD } from './event-ids.js';
// Queries written with the Mobius API
export { nexmarkStream, bidStream } from './queries/nexmark-stream.js';
export { q0 } from './queries/q0.js';
export { q1 } from './queries/q1.js';
export { q2 } from './queries/q2.js';
export { q3 } from './queries/q3.js';
export { q4 } from './queries/q4.js';
export { q5 } from './queries/q5.js';
export { q7, highestBids } from './queries/q7.js';
export { q8 } from './queries/q8.js';
export { q11 } from './queries/q11.js';
export { NEXMARK_QUERIES } from './queries/nexmark-queries.js';
export type { NexmarkQuery, NexmarkQueryName } from './queries/nexmark-queries.js';
// Result rows and reference implementations (plain TypeScript over an array of events)
export type { BidRow, Q1Row, Q2Row, Q3Row, Q4Row, Q5Row, Q7Row, Q8Row, Q11Row } from './query-rows.js';
export { referenceQ0 } from './reference/reference-q0.js';
export { referenceQ1 } from './reference/reference-q1.js';
export { referenceQ2 } from './reference/reference-q2.js';
export { referenceQ3 } from './reference/reference-q3.js';
export { referenceQ4 } from './reference/reference-q4.js';
export { referenceQ5 } from './reference/reference-q5.js';
export { referenceQ7 } from './reference/reference-q7.js';
export { referenceQ8 } from './reference/reference-q8.js';
export { referenceQ11 } from './reference/reference-q11.js';
export { dollarsToEuros } from './reference/currency.js';
export { tumbleStart, hopStarts, Q5_WINDOW_MS, Q5_SLIDE_MS, Q7_WINDOW_MS, Q8_WINDOW_MS, Q11_SESSION_GAP_MS } from './reference/window-bounds.js';
