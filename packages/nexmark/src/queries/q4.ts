import { listState, valueState, type Collector, type KeyedCoProcessFunction, type KeyedProcessContext, type ListState, type OnTimerContext, type RuntimeContext, type ValueState } from '@mobius/interface';
import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Auction, Bid, Event } from '../model.js';
import type { Q4Row } from '../query-rows.js';
import { nexmarkStream } from './nexmark-stream.js';

/** An auction's category and its winning price (only closed auctions with an in-time bid). */
interface ClosedAuction {
  readonly category: number;
  readonly sum: number;
  readonly count: number;
}

/** What the join keeps of an auction while it is open. */
interface OpenAuction {
  readonly category: number;
  readonly dateTime: number;
  readonly expires: number;
  /** The highest in-time price so far; -1 when none. */
  max: number;
}

/** A bid that came before its auction: its time and price. */
interface EarlyBid {
  readonly dateTime: number;
  readonly price: number;
}

/**
 * The join of q4 per auction id: an auction's highest bid with `A.dateTime <= B.dateTime <=
 * A.expires`. It emits the winning price once, when the watermark passes `expires` (no in-time
 * bid can come after that), and then forgets the auction. A bid that comes before its auction
 * (another source task's events, or a bid on an auction a few ids ahead) waits until the
 * watermark reaches its time: by then its auction, if it is no later than the bid, has come.
 */
class WinningBids implements KeyedCoProcessFunction<number, Auction, Bid, ClosedAuction> {
  private auction!: ValueState<OpenAuction>;
  private early!: ListState<EarlyBid>;

  open(ctx: RuntimeContext): void {
    this.auction = ctx.getState(valueState<OpenAuction>('q4-auction'));
    this.early = ctx.getListState(listState<EarlyBid>('q4-early-bids'));
  }

  processElement1(a: Auction, ctx: KeyedProcessContext<number>, _out: Collector<ClosedAuction>): void {
    const open: OpenAuction = { category: a.category, dateTime: a.dateTime, expires: a.expires, max: -1 };
    for (const b of this.early.get()) offer(open, b.dateTime, b.price);
    this.early.clear();
    this.auction.update(open);
    ctx.timerService().registerEventTimeTimer(a.expires);
  }

  processElement2(b: Bid, ctx: KeyedProcessContext<number>, _out: Collector<ClosedAuction>): void {
    const open = this.auction.value();
    if (open === undefined) {
      this.early.add({ dateTime: b.dateTime, price: b.price });
      ctx.timerService().registerEventTimeTimer(b.dateTime);
    } else if (offer(open, b.dateTime, b.price)) {
      this.auction.update(open);
    }
  }

  onTimer(time: number, _ctx: OnTimerContext<number>, out: Collector<ClosedAuction>): void {
    const open = this.auction.value();
    if (open === undefined) {
      // Bids whose auction never came by their time: an auction after its bids never joins them.
      const waiting = this.early.get().filter((b) => b.dateTime > time);
      if (waiting.length === 0) this.early.clear();
      else this.early.update(waiting);
      return;
    }
    if (time < open.expires) return;
    if (open.max >= 0) out.collect({ category: open.category, sum: open.max, count: 1 });
    this.auction.clear();
  }
}

/** Takes the bid if it is in the auction's time range and the highest so far; says whether it did. */
function offer(open: OpenAuction, dateTime: number, price: number): boolean {
  if (dateTime < open.dateTime || dateTime > open.expires || price <= open.max) return false;
  open.max = price;
  return true;
}

const isAuction = (e: Event): boolean => e.type === 'auction';
const isBid = (e: Event): boolean => e.type === 'bid';
const auctionId = (a: Auction): number => a.id;
const bidAuction = (b: Bid): number => b.auction;
const byCategory = (c: ClosedAuction): number => c.category;
const addUp = (x: ClosedAuction, y: ClosedAuction): ClosedAuction => ({ category: x.category, sum: x.sum + y.sum, count: x.count + y.count });
// Flink's AVG over BIGINT is a BIGINT: the quotient truncated.
const toRow = (c: ClosedAuction): Q4Row => ({ category: c.category, avgFinal: Math.trunc(c.sum / c.count) });

/**
 * Nexmark q4, average price per category: the winning bid of each auction (its highest with
 * `A.dateTime <= B.dateTime <= A.expires`), then the average of those per category. Flink's SQL
 * version is an updating query (a retraction each time an auction's maximum rises); this one emits
 * an auction's winning price once, when the auction closes in event time, so the per-category
 * running average never retracts: the output is a changelog of upserts keyed by `category`, one
 * row per closed auction, whose last row per category is the final value (the reference's).
 */
export function q4(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q4Row> {
  const events = nexmarkStream(ctx, config);
  const auctions = events.filter(isAuction).name('q4-auctions') as DataStream<Auction>;
  const bids = events.filter(isBid).name('q4-bids') as DataStream<Bid>;
  return auctions
    .connect(bids)
    .keyBy(auctionId, bidAuction)
    .process(new WinningBids())
    .name('q4-winning-bids')
    .keyBy(byCategory)
    .reduce(addUp)
    .name('q4-average')
    .map(toRow)
    .name('q4');
}
