import { TransportError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { channelCredits } from './channel-credits.js';

describe('channelCredits', () => {
  it('returns valid credits', () => {
    expect(channelCredits('c', { credits: 1 })).toBe(1);
    expect(channelCredits('c', { credits: 64 }, 64)).toBe(64);
  });

  it.each([0, -1, 1.5, Number.NaN, 65])('refuses %s with TransportError TRANSPORT_FAILED naming the channel', (credits) => {
    let error: unknown;
    try {
      channelCredits('c7', { credits }, 64);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('TRANSPORT_FAILED');
    expect((error as Error).message).toContain('channel c7: credits must be an integer in 1..64');
  });
});
