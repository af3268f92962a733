import type { DataStream, StreamingContext } from '@mobius/api';
import { listState, valueState, type Collector, type FlatMapFunction, type ListState, type RuntimeContext, type ValueState } from '@mobius/interface';
import type { NexmarkConfig } from '../generator-config.js';
import type { Auction, Event, Person } from '../model.js';
import type { Q3Row } from '../query-rows.js';
import { nexmarkStream } from './nexmark-stream.js';

/** q3's filters, shared with its reference so that both read the SQL's WHERE clause once. */
export const Q3_STATES: ReadonlySet<string> = new Set(['OR', 'ID', 'CA']);
export const Q3_CATEGORY = 10;

const relevant = (e: Event): boolean =>
  e.type === 'person' ? Q3_STATES.has(e.state) : e.type === 'auction' && e.category === Q3_CATEGORY;
const joinKey = (e: Event): number => (e.type === 'person' ? e.id : (e as Auction).seller);

type Seller = Pick<Person, 'name' | 'city' | 'state'>;

/**
 * The incremental inner join of q3, per seller id in keyed state: the person once seen, and the
 * ids of the auctions that came before their seller. Each person id occurs once in the stream, so
 * the pending list empties when the person arrives and a later auction joins at once; a job that
 * never sees the seller keeps that seller's auctions (as Flink's regular join keeps both sides).
 */
class Q3Join implements FlatMapFunction<Event, Q3Row> {
  private seller!: ValueState<Seller>;
  private pending!: ListState<number>;

  open(ctx: RuntimeContext): void {
    this.seller = ctx.getState(valueState<Seller>('q3-seller'));
    this.pending = ctx.getListState(listState<number>('q3-pending-auctions'));
  }

  flatMap(e: Event, out: Collector<Q3Row>): void {
    if (e.type === 'person') {
      const seller: Seller = { name: e.name, city: e.city, state: e.state };
      this.seller.update(seller);
      for (const id of this.pending.get()) out.collect({ name: seller.name, city: seller.city, state: seller.state, id });
      this.pending.clear();
      return;
    }
    const auction = e as Auction;
    const seller = this.seller.value();
    if (seller === undefined) this.pending.add(auction.id);
    else out.collect({ name: seller.name, city: seller.city, state: seller.state, id: auction.id });
  }
}

/**
 * Nexmark q3, local item suggestion: `SELECT P.name, P.city, P.state, A.id FROM auction A JOIN
 * person P ON A.seller = P.id WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA')`.
 */
export function q3(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q3Row> {
  return nexmarkStream(ctx, config).filter(relevant).name('q3-filter').keyBy(joinKey).flatMap(new Q3Join()).name('q3');
}
