// Shared by the window tests: seeded event streams and plain references that group events by key
// and window in a few lines, independently of the engine.
import { prng } from '@mobius/testkit';

export interface Ev {
  k: string;
  t: number;
  v: number;
}

/** The testkit's seeded generator (mulberry32), so a failing case can be replayed from its seed. */
export const random = prng;

/** `n` events over `keys` keys, about 3 ms apart, each up to `jitter` ms earlier than its place (out of order). */
export function events(n: number, keys: number, seed: number, jitter: number): Ev[] {
  const rnd = random(seed);
  return Array.from({ length: n }, (_, i) => ({ k: `k${Math.floor(rnd() * keys)}`, t: Math.max(0, i * 3 - Math.floor(rnd() * jitter)), v: 1 + Math.floor(rnd() * 9) }));
}

/** Rows in a canonical order, for comparing multisets. */
export const sorted = <T>(rows: T[]): T[] => rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as T);

export const floorStart = (t: number, size: number): number => Math.floor(t / size) * size;

export const tumbling =
  (size: number) =>
  (t: number): [number, number][] => [[floorStart(t, size), floorStart(t, size) + size]];

export const sliding =
  (size: number, slide: number) =>
  (t: number): [number, number][] => {
    const ws: [number, number][] = [];
    for (let s = floorStart(t, slide); s > t - size; s -= slide) ws.push([s, s + size]);
    return ws;
  };

/** Per key and window: `[key, start, end, sum, count]`, sorted. */
export function windowSums(evs: Ev[], windowsOf: (t: number) => [number, number][]): [string, number, number, number, number][] {
  const acc = new Map<string, [string, number, number, number, number]>();
  for (const e of evs) {
    for (const [s, end] of windowsOf(e.t)) {
      const id = `${e.k}|${s}`;
      const row = acc.get(id) ?? [e.k, s, end, 0, 0];
      row[3] += e.v;
      row[4] += 1;
      acc.set(id, row);
    }
  }
  return sorted([...acc.values()]);
}

/** Sessions per key: sort by time, start a new session when an event comes after the current one's end. `[key, start, end, sum, count]`, sorted. */
export function sessionSums(evs: Ev[], gap: number): [string, number, number, number, number][] {
  const out: [string, number, number, number, number][] = [];
  const byKey = new Map<string, Ev[]>();
  for (const e of evs) byKey.set(e.k, [...(byKey.get(e.k) ?? []), e]);
  for (const [k, list] of byKey) {
    list.sort((x, y) => x.t - y.t);
    let row: [string, number, number, number, number] = [k, list[0].t, list[0].t + gap, 0, 0];
    for (const e of list) {
      if (e.t > row[2]) {
        out.push(row);
        row = [k, e.t, e.t + gap, 0, 0];
      }
      row[2] = Math.max(row[2], e.t + gap);
      row[3] += e.v;
      row[4] += 1;
    }
    out.push(row);
  }
  return sorted(out);
}

export async function drain<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of records) out.push(r);
  return out;
}
