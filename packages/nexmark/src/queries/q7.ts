import { listState, valueState, type Collector, type KeyedProcessContext, type KeyedProcessFunction, type ListState, type OnTimerContext, type RuntimeContext, type ValueState } from '@mobius/interface';
import type { DataStream, StreamingContext } from '@mobius/api';
import type { NexmarkConfig } from '../generator-config.js';
import type { Bid } from '../model.js';
import type { Q7Row } from '../query-rows.js';
import { Q7_WINDOW_MS, tumbleStart } from '../reference/window-bounds.js';
import { bidStream } from './nexmark-stream.js';

/** A bid and the start of a window it is joined against (its own, or the one before when it sits on that window's end). */
interface WindowBid {
  readonly start: number;
  readonly bid: Bid;
}

/**
 * The BETWEEN of q7's join is inclusive at both ends, so a bid exactly at a window's end (which
 * belongs to the next window) is also a candidate of the window before: it goes to both, marked
 * as a candidate only there (it must not raise that window's maximum).
 */
function toWindows(bid: Bid, out: Collector<WindowBid>): void {
  const start = tumbleStart(bid.dateTime, Q7_WINDOW_MS);
  out.collect({ start, bid });
  if (bid.dateTime === start) out.collect({ start: start - Q7_WINDOW_MS, bid });
}

const byWindow = (w: WindowBid): number => w.start;

/**
 * One window (the key) at a time: the highest price of the window's own bids, and the bids that
 * may still have that price (a bid below the running maximum never can). At the window's end
 * (an event-time timer: every bid up to and including the end has come) the bids at the maximum
 * are the rows; the state is then cleared.
 */
class HighestBids implements KeyedProcessFunction<number, WindowBid, Q7Row> {
  private max!: ValueState<number>;
  private candidates!: ListState<Bid>;

  open(ctx: RuntimeContext): void {
    this.max = ctx.getState(valueState<number>('q7-max-price'));
    this.candidates = ctx.getListState(listState<Bid>('q7-candidates'));
  }

  processElement(w: WindowBid, ctx: KeyedProcessContext<number>, _out: Collector<Q7Row>): void {
    const { bid, start } = w;
    const max = this.max.value();
    if (max === undefined) ctx.timerService().registerEventTimeTimer(start + Q7_WINDOW_MS);
    if (bid.dateTime < start + Q7_WINDOW_MS && (max === undefined || bid.price > max)) {
      this.max.update(bid.price);
      // Those below the new maximum can no longer be rows; the boundary bids above it stay (they never count).
      const kept = this.candidates.get().filter((c) => c.price >= bid.price);
      this.candidates.update([...kept, bid]);
    } else if (max === undefined || bid.price >= max) {
      this.candidates.add(bid);
    }
  }

  onTimer(_time: number, _ctx: OnTimerContext<number>, out: Collector<Q7Row>): void {
    const max = this.max.value();
    for (const b of this.candidates.get()) {
      if (b.price === max) out.collect({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
    }
    this.max.clear();
    this.candidates.clear();
  }
}

/**
 * Nexmark q7, highest bid: the highest price of each 10 s tumbling window, joined back to the bids
 * of that price with `window_end - 10 s <= dateTime <= window_end`. Written as one keyed process
 * function per window rather than a window aggregate joined with the bids: the join's inclusive
 * upper bound reaches into the next window, which no window assigner expresses, and this keeps
 * only the bids at the running maximum instead of every bid of the window.
 */
export function q7(ctx: StreamingContext, config: NexmarkConfig = {}): DataStream<Q7Row> {
  return highestBids(bidStream(ctx, config));
}

/** q7 over any stream of bids carrying their `dateTime` as event time (tests feed chosen bids). */
export function highestBids(bids: DataStream<Bid>): DataStream<Q7Row> {
  return bids.flatMap(toWindows).name('q7-windows').keyBy(byWindow).process(new HighestBids()).name('q7');
}
