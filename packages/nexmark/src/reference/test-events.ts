import type { Auction, Bid, Person } from '../model.js';

/** Hand-made events for the reference tests: only the fields a test cares about need be given. */
export const bid = (auction: number, price: number, dateTime: number, bidder = 1): Bid => ({
  type: 'bid',
  auction,
  bidder,
  price,
  channel: 'Google',
  url: 'https://www.nexmark.com/a/b/c/item.htm?query=1',
  dateTime,
  extra: `x${auction}-${dateTime}`,
});

export const person = (id: number, state: string, dateTime = 0, name = `P${id}`): Person => ({
  type: 'person',
  id,
  name,
  emailAddress: 'a@b.com',
  creditCard: '0000 0000 0000 0000',
  city: `City${id}`,
  state,
  dateTime,
  extra: '',
});

export const auction = (id: number, seller: number, category: number, dateTime = 0, expires = dateTime + 1000): Auction => ({
  type: 'auction',
  id,
  itemName: `item${id}`,
  description: '',
  initialBid: 1,
  reserve: 2,
  dateTime,
  expires,
  seller,
  category,
  extra: '',
});
