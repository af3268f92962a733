import { TumblingEventTimeWindows, type DataStream, type StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Auction, Event, Person } from '../model.js';
import type { Q8Row } from '../query-rows.js';
import { Q8_WINDOW_MS, tumbleStart } from '../reference/window-bounds.js';
import { nexmarkStream } from './nexmark-stream.js';

const isPerson = (e: Event): boolean => e.type === 'person';
const isAuction = (e: Event): boolean => e.type === 'auction';
const sellerOf = (a: Auction): number => a.seller;
const self = (seller: number): number => seller;
const first = (a: number): number => a;
const personId = (p: Person): number => p.id;
const toRow = (p: Person): Q8Row => ({ id: p.id, name: p.name, stime: tumbleStart(p.dateTime, Q8_WINDOW_MS) });

/**
 * Nexmark q8, monitor new users: persons joined, on id and 10 s tumbling window, with the sellers
 * of auctions grouped by (seller, window). The sellers' GROUP BY is a window reduce that keeps one
 * record per seller and window; its result time (`window end - 1`) lies in the same window, so the
 * window join meets it there. The persons' GROUP BY (id, name, window) needs no stage: a person id
 * occurs once in the stream, so each group holds one person.
 */
export function q8(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q8Row> {
  const events = nexmarkStream(ctx, config);
  const persons = events.filter(isPerson).name('q8-persons') as DataStream<Person>;
  const sellers = (events.filter(isAuction).name('q8-auctions') as DataStream<Auction>)
    .map(sellerOf)
    .keyBy(self)
    .window(TumblingEventTimeWindows.of(Q8_WINDOW_MS))
    .reduce(first)
    .name('q8-sellers');
  return persons.join(sellers).where(personId).equalTo(self).window(TumblingEventTimeWindows.of(Q8_WINDOW_MS)).apply(toRow).name('q8');
}
