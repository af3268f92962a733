import { describe, expect, it } from 'vitest';
import { ConfigError } from '@mobius/interface';
import { AUCTION_ID_LEAD, FIRST_AUCTION_ID, FIRST_PERSON_ID, PERSON_ID_LEAD } from './event-ids.js';
import { generateEvents, nexmarkEvents } from './nexmark-events.js';
import { NexmarkGenerator } from './nexmark-generator.js';
import type { Auction, Bid, Person } from './model.js';

const BASE = Date.UTC(2026, 0, 1);

describe('NexmarkGenerator', () => {
  it('gives the same events for the same seed, and others for another seed', () => {
    const a = generateEvents({ seed: 42, count: 2000 });
    const b = generateEvents({ seed: 42, count: 2000 });
    const c = generateEvents({ seed: 43, count: 2000 });
    expect(b).toEqual(a);
    const differing = a.filter((e, i) => JSON.stringify(e) !== JSON.stringify(c[i])).length;
    expect(differing).toBeGreaterThan(1900);
  });

  it('computes event n alone equal to event n of the sequence', () => {
    for (const outOfOrderGroupSize of [1, 7]) {
      const seq = generateEvents({ seed: 5, count: 12_000, outOfOrderGroupSize });
      const alone = new NexmarkGenerator({ seed: 5, outOfOrderGroupSize });
      for (const n of [11_999, 0, 4321, 50, 49, 7777]) expect(alone.event(n)).toEqual(seq[n]);
    }
  });

  it('keeps the proportions persons:auctions:bids = 1:3:46', () => {
    const kinds = { person: 0, auction: 0, bid: 0 };
    for (const e of nexmarkEvents({ count: 50_000 })) kinds[e.type]++;
    expect(kinds).toEqual({ person: 1000, auction: 3000, bid: 46_000 });
  });

  it('numbers persons and auctions from 1000 and refers only to recent ones (or the few just ahead, as the reference)', () => {
    let persons = 0;
    let auctions = 0;
    const referredPersons = new Set<number>();
    const referredAuctions = new Set<number>();
    let hotBids = 0;
    const events = generateEvents({ seed: 9, count: 50_000 });
    // Plain checks collected into one list: an expect() per event would take seconds.
    const bad: string[] = [];
    const check = (ok: boolean, what: string): void => {
      if (!ok && bad.length < 5) bad.push(what);
    };
    for (const e of events) {
      if (e.type === 'person') check(e.id === FIRST_PERSON_ID + persons++, `person id ${e.id}`);
      else if (e.type === 'auction') {
        check(e.id === FIRST_AUCTION_ID + auctions++, `auction id ${e.id}`);
        check(e.seller >= FIRST_PERSON_ID && e.seller < FIRST_PERSON_ID + persons + PERSON_ID_LEAD, `seller ${e.seller} after ${persons} persons`);
        referredPersons.add(e.seller);
      } else {
        check(e.bidder >= FIRST_PERSON_ID && e.bidder < FIRST_PERSON_ID + persons + PERSON_ID_LEAD, `bidder ${e.bidder} after ${persons} persons`);
        check(e.auction < FIRST_AUCTION_ID + auctions + AUCTION_ID_LEAD, `auction ${e.auction} after ${auctions} auctions`);
        // At most numInFlightAuctions (100) behind the latest auction, as the reference draws them.
        check(e.auction >= Math.max(FIRST_AUCTION_ID, FIRST_AUCTION_ID + auctions - 1 - 100), `auction ${e.auction} too old after ${auctions}`);
        if (e.auction % 100 === 0) hotBids++;
        referredPersons.add(e.bidder);
        referredAuctions.add(e.auction);
      }
    }
    expect(bad).toEqual([]);
    // Nearly every id referred to exists by the end of the run.
    const existingPersons = [...referredPersons].filter((id) => id < FIRST_PERSON_ID + persons).length;
    expect(existingPersons / referredPersons.size).toBeGreaterThan(0.99);
    expect([...referredAuctions].filter((id) => id < FIRST_AUCTION_ID + auctions).length / referredAuctions.size).toBeGreaterThan(0.99);
    // hotAuctionRatio 2: about half of the bids go to the hot auction (a multiple of 100).
    const bids = events.length - persons - auctions;
    expect(hotBids / bids).toBeGreaterThan(0.45);
    expect(hotBids / bids).toBeLessThan(0.6);
  });

  it('advances event time at the configured rate from the base time', () => {
    const events = generateEvents({ count: 30_001, eventsPerSecond: 10_000 });
    expect(events[0]!.dateTime).toBe(BASE);
    expect(events[30_000]!.dateTime).toBe(BASE + 3000);
    for (let i = 1; i < events.length; i++) expect(events[i]!.dateTime).toBeGreaterThanOrEqual(events[i - 1]!.dateTime);
    const slow = generateEvents({ count: 11, eventsPerSecond: 4, baseTime: 1_000_000 });
    expect(slow.map((e) => e.dateTime)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500].map((t) => 1_000_000 + t));
  });

  it('shuffles inside groups of outOfOrderGroupSize and minTimestampFrom bounds every later event', () => {
    const g = new NexmarkGenerator({ outOfOrderGroupSize: 10, eventsPerSecond: 1000 });
    const numbers = Array.from({ length: 30 }, (_, k) => g.eventNumber(k));
    expect(numbers.slice(10, 20).sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(numbers).not.toEqual(Array.from({ length: 30 }, (_, k) => k));
    const events = Array.from({ length: 200 }, (_, k) => g.event(k));
    for (let k = 0; k < 200; k++) {
      const later = Math.min(...events.slice(k).map((e) => e.dateTime));
      expect(g.minTimestampFrom(k)).toBeLessThanOrEqual(later);
      expect(later - g.minTimestampFrom(k)).toBeLessThan(10);
    }
  });

  it('fills every field as the reference does', () => {
    const events = generateEvents({ count: 5000 });
    const persons = events.filter((e): e is Person => e.type === 'person');
    const auctions = events.filter((e): e is Auction => e.type === 'auction');
    const bids = events.filter((e): e is Bid => e.type === 'bid');
    for (const p of persons) {
      expect(['AZ', 'CA', 'ID', 'OR', 'WA', 'WY']).toContain(p.state);
      expect(p.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(p.emailAddress).toMatch(/^[a-z ]*@[a-z ]*\.com$/);
      expect(p.creditCard).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    }
    for (const a of auctions) {
      expect(a.category).toBeGreaterThanOrEqual(10);
      expect(a.category).toBeLessThanOrEqual(14);
      expect(a.expires).toBeGreaterThan(a.dateTime);
      expect(a.reserve).toBeGreaterThan(a.initialBid);
    }
    for (const b of bids) {
      expect(b.price).toBeGreaterThanOrEqual(100);
      expect(b.price).toBeLessThanOrEqual(100_000_000);
      expect(b.url).toMatch(/^https:\/\/www\.nexmark\.com\//);
    }
    // The extra padding brings each kind near its average size (bids: 100 bytes, 32 of fields).
    const avgExtra = bids.reduce((s, b) => s + b.extra.length, 0) / bids.length;
    expect(avgExtra).toBeGreaterThan(60);
    expect(avgExtra).toBeLessThan(76);
  });

  it('rejects bad options with a ConfigError naming the option', () => {
    const bad = (config: object, key: string, code = 'CONFIG_INVALID_VALUE'): void => {
      let error: unknown;
      try {
        new NexmarkGenerator(config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe(code);
      expect((error as ConfigError).key).toBe(`nexmark.${key}`);
      expect((error as ConfigError).message).toContain(key);
    };
    bad({ eventsPerSecond: 0 }, 'eventsPerSecond');
    bad({ count: -1 }, 'count');
    bad({ count: 1.5 }, 'count');
    bad({ seed: 'x' }, 'seed');
    bad({ personProportion: 0 }, 'personProportion');
    bad({ outOfOrderGroupSize: 953 }, 'outOfOrderGroupSize');
    bad({ avgBidByteSize: 1e6 }, 'avgBidByteSize');
    bad({ evntsPerSecond: 5 }, 'evntsPerSecond', 'CONFIG_UNKNOWN_KEY');
  });
});
