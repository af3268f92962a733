import { EventRandom } from './event-random.js';
import {
  AUCTION_ID_LEAD,
  FIRST_AUCTION_ID,
  FIRST_CATEGORY_ID,
  FIRST_PERSON_ID,
  PERSON_ID_LEAD,
  lastBase0AuctionId,
  lastBase0PersonId,
  totalProportion,
} from './event-ids.js';
import { resolveNexmarkConfig, type NexmarkConfig, type ResolvedNexmarkConfig } from './generator-config.js';
import type { Auction, Bid, Event, Person } from './model.js';
import { HOT_CHANNELS, SeedTables, nextString } from './random-strings.js';

const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const NUM_CATEGORIES = 5;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
const HOT_CHANNELS_RATIO = 2;
/** The out-of-order shuffle of the reference: position k of a group goes to k * 953 mod size. */
const SHUFFLE_MULTIPLIER = 953;

/**
 * The Nexmark generator of the nexmark project (`GeneratorConfig` + `NexmarkGenerator`, itself
 * Beam's), as pure functions of the event's position: `event(k)` is the k-th event of the
 * stream, computed alone. Event time advances by `1e6 / eventsPerSecond` µs per event from
 * `baseTime`. Differences from the reference: the random stream is reseeded per event (as Beam,
 * not Flink, does) so that a seed names the sequence, and a bidder id gets the 1000 offset once
 * (Flink's copy adds it twice, which makes bidders point at persons that never exist).
 */
export class NexmarkGenerator {
  readonly config: ResolvedNexmarkConfig;
  private readonly random = new EventRandom();
  private readonly tables: SeedTables;
  private readonly total: number;
  private readonly interEventDelayUs: number;
  private readonly groupSize: number;

  constructor(config: NexmarkConfig = {}) {
    this.config = resolveNexmarkConfig(config);
    this.tables = SeedTables.of(this.config.seed);
    this.total = totalProportion(this.config);
    this.interEventDelayUs = 1_000_000 / this.config.eventsPerSecond;
    this.groupSize = this.config.outOfOrderGroupSize;
  }

  /** The event number at position k of the stream (the identity unless events are shuffled). */
  eventNumber(position: number): number {
    const n = this.groupSize;
    if (n === 1) return position;
    return position - (position % n) + ((position % n) * SHUFFLE_MULTIPLIER) % n;
  }

  /** Event time of event number `eventNumber`, epoch ms (non-decreasing in the number). */
  timestampForEvent(eventNumber: number): number {
    return this.config.baseTime + Math.floor(Math.floor(eventNumber * this.interEventDelayUs) / 1000);
  }

  /**
   * The least event time of any event at position >= `position`: the start of its shuffle group.
   * A source that will emit nothing before `position` may emit this minus 1 as its watermark.
   */
  minTimestampFrom(position: number): number {
    return this.timestampForEvent(position - (position % this.groupSize));
  }

  /** The event at position k (0-based) of the stream. */
  event(position: number): Event {
    const id = this.eventNumber(position);
    const timestamp = this.timestampForEvent(id);
    this.random.reset(this.config.seed, id);
    const rem = id % this.total;
    if (rem < this.config.personProportion) return this.person(id, timestamp);
    if (rem < this.config.personProportion + this.config.auctionProportion) return this.auction(id, timestamp);
    return this.bid(id, timestamp);
  }

  private person(eventId: number, timestamp: number): Person {
    const r = this.random;
    const name = `${FIRST_NAMES[r.nextInt(FIRST_NAMES.length)]!} ${LAST_NAMES[r.nextInt(LAST_NAMES.length)]!}`;
    const emailAddress = `${nextString(r, 7)}@${nextString(r, 5)}.com`;
    const creditCard = `${card(r)} ${card(r)} ${card(r)} ${card(r)}`;
    const city = US_CITIES[r.nextInt(US_CITIES.length)]!;
    const state = US_STATES[r.nextInt(US_STATES.length)]!;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    return {
      type: 'person',
      id: lastBase0PersonId(this.config, eventId) + FIRST_PERSON_ID,
      name,
      emailAddress,
      creditCard,
      city,
      state,
      dateTime: timestamp,
      extra: this.tables.nextExtra(r, size, this.config.avgPersonByteSize),
    };
  }

  private auction(eventId: number, timestamp: number): Auction {
    const r = this.random;
    const c = this.config;
    const seller =
      (r.nextInt(c.hotSellersRatio) > 0
        ? Math.floor(lastBase0PersonId(c, eventId) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        : this.randomPerson(eventId)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES);
    const initialBid = nextPrice(r);
    // An auction lasts up to twice the event time it takes for numInFlightAuctions more to start.
    const eventsForAuctions = Math.floor((c.numInFlightAuctions * this.total) / c.auctionProportion);
    const horizonMs = this.timestampForEvent(eventId + eventsForAuctions) - timestamp;
    const expires = timestamp + 1 + r.nextInt(Math.max(horizonMs * 2, 1));
    const itemName = nextString(r, 20);
    const description = nextString(r, 100);
    const reserve = initialBid + nextPrice(r);
    const size = 8 + itemName.length + description.length + 40;
    return {
      type: 'auction',
      id: lastBase0AuctionId(c, eventId) + FIRST_AUCTION_ID,
      itemName,
      description,
      initialBid,
      reserve,
      dateTime: timestamp,
      expires,
      seller,
      category,
      extra: this.tables.nextExtra(r, size, c.avgAuctionByteSize),
    };
  }

  private bid(eventId: number, timestamp: number): Bid {
    const r = this.random;
    const c = this.config;
    let auction: number;
    if (r.nextInt(c.hotAuctionRatio) > 0) {
      auction = Math.floor(lastBase0AuctionId(c, eventId) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO;
    } else {
      const max = lastBase0AuctionId(c, eventId);
      const min = Math.max(max - c.numInFlightAuctions, 0);
      auction = min + r.nextInt(max - min + 1 + AUCTION_ID_LEAD);
    }
    const bidder =
      (r.nextInt(c.hotBiddersRatio) > 0
        ? Math.floor(lastBase0PersonId(c, eventId) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        : this.randomPerson(eventId)) + FIRST_PERSON_ID;
    const price = nextPrice(r);
    let channel: string;
    let url: string;
    if (r.nextInt(HOT_CHANNELS_RATIO) > 0) {
      const i = r.nextInt(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[i]!;
      url = this.tables.hotUrls[i]!;
    } else {
      const i = r.nextInt(SeedTables.channels);
      channel = `channel-${i}`;
      url = this.tables.channelUrl(i);
    }
    return {
      type: 'bid',
      auction: auction + FIRST_AUCTION_ID,
      bidder,
      price,
      channel,
      url,
      dateTime: timestamp,
      extra: this.tables.nextExtra(r, 32, c.avgBidByteSize),
    };
  }

  /** A base-0 person among the `numActivePeople` latest, or up to PERSON_ID_LEAD ahead. */
  private randomPerson(eventId: number): number {
    const numPeople = lastBase0PersonId(this.config, eventId) + 1;
    const active = Math.min(numPeople, this.config.numActivePeople);
    return numPeople - active + this.random.nextInt(active + PERSON_ID_LEAD);
  }
}

/** Cents, log-uniform from 100 ($1) to 10^8 ($1,000,000), as the reference's `PriceGenerator`. */
function nextPrice(r: EventRandom): number {
  return Math.round(Math.pow(10, r.nextDouble() * 6) * 100);
}

function card(r: EventRandom): string {
  return String(r.nextInt(10_000)).padStart(4, '0');
}
