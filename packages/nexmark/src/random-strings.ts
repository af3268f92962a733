import { EventRandom } from './event-random.js';

/**
 * The strings of the nexmark project's `StringsGenerator` and the tables it draws from. The
 * tables (a 1 MiB string the `extra` padding is cut from, the bid channels and their urls) are
 * made once per seed from a random stream of their own, as the reference makes them once per
 * process, so they cost nothing per event and are the same in every task.
 */

const MIN_STRING_LENGTH = 3;
const REUSABLE_EXTRA_LENGTH = 1024 * 1024;
const CHANNELS_NUMBER = 10_000;
export const HOT_CHANNELS: readonly string[] = ['Google', 'Facebook', 'Baidu', 'Apple'];

/** Lower-case letters with 1 in 13 characters `special`, 3 to maxLength-1 long, trimmed. */
export function nextString(random: EventRandom, maxLength: number, special = ' '): string {
  let len = MIN_STRING_LENGTH + random.nextInt(maxLength - MIN_STRING_LENGTH);
  let s = '';
  while (len-- > 0) s += random.nextInt(13) === 0 ? special : String.fromCharCode(97 + random.nextInt(26));
  return s.trim();
}

/** The seed's tables; a handful of seeds per process at most, so the cache stays small. */
export class SeedTables {
  private static readonly bySeed = new Map<number, SeedTables>();
  readonly reusableExtra: string;
  readonly hotUrls: readonly string[];
  private readonly channelUrls: string[] = [];
  private readonly random = new EventRandom();

  static of(seed: number): SeedTables {
    let t = SeedTables.bySeed.get(seed);
    if (t === undefined) {
      t = new SeedTables(seed);
      SeedTables.bySeed.set(seed, t);
    }
    return t;
  }

  private constructor(seed: number) {
    const random = this.random;
    // Event numbers are >= 0: negative "event numbers" give the tables streams no event uses.
    random.reset(seed, -1);
    const chars: string[] = new Array<string>(REUSABLE_EXTRA_LENGTH);
    for (let i = 0; i < REUSABLE_EXTRA_LENGTH; i++) chars[i] = String.fromCharCode(97 + random.nextInt(26));
    this.reusableExtra = chars.join('');
    this.hotUrls = HOT_CHANNELS.map(() => baseUrl(random));
    random.reset(seed, -2);
    for (let i = 0; i < CHANNELS_NUMBER; i++) {
      let url = baseUrl(random);
      if (random.nextInt(10) > 0) url += `&channel_id=${Math.abs(reverseBits32(i))}`;
      this.channelUrls.push(url);
    }
  }

  /** Padding that brings an event of `currentSize` bytes to about `desiredAverageSize` (±20 %). */
  nextExtra(random: EventRandom, currentSize: number, desiredAverageSize: number): string {
    if (currentSize > desiredAverageSize) return '';
    const rest = desiredAverageSize - currentSize;
    const delta = Math.round(rest * 0.2);
    const size = rest - delta + (delta === 0 ? 0 : random.nextInt(2 * delta));
    const offset = random.nextInt(this.reusableExtra.length - size);
    return this.reusableExtra.substring(offset, offset + size);
  }

  channelUrl(channel: number): string {
    return this.channelUrls[channel]!;
  }

  static readonly channels = CHANNELS_NUMBER;
}

function baseUrl(random: EventRandom): string {
  return `https://www.nexmark.com/${nextString(random, 5, '_')}/${nextString(random, 5, '_')}/${nextString(random, 5, '_')}/item.htm?query=1`;
}

/** Java's Integer.reverse. */
function reverseBits32(x: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) {
    r = (r << 1) | (x & 1);
    x >>>= 1;
  }
  return r | 0;
}
