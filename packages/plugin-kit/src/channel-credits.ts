import { TransportError, type ChannelId, type ChannelOptions } from '@mobius/interface';

/**
 * The credits of `options`, checked: an integer in 1..`max`. A network transport passes a `max`,
 * since the credits a remote sender announces bound what this process holds for it.
 */
export function channelCredits(channel: ChannelId, options: ChannelOptions, max = Number.MAX_SAFE_INTEGER): number {
  const credits = options?.credits;
  if (!Number.isInteger(credits) || credits < 1 || credits > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer in 1..${max}`;
    throw new TransportError('TRANSPORT_FAILED', `channel ${channel}: credits must be ${range}, got ${String(credits)}`);
  }
  return credits;
}
