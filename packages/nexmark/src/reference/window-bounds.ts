/**
 * Window assignment as Flink SQL's TUMBLE and HOP table functions: windows are aligned to the
 * epoch (offset 0), `[start, start + size)`, end exclusive.
 */

/** The start of the tumbling window of `size` ms that holds `t`. */
export function tumbleStart(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

/** The starts of every `size` ms window sliding by `slide` ms that holds `t`, latest first. */
export function hopStarts(t: number, size: number, slide: number): number[] {
  const starts: number[] = [];
  for (let start = tumbleStart(t, slide); start > t - size; start -= slide) starts.push(start);
  return starts;
}

/** Windows sizes of the queries, in ms (from the nexmark project's SQL). */
export const Q5_WINDOW_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;
export const Q7_WINDOW_MS = 10_000;
export const Q8_WINDOW_MS = 10_000;
export const Q11_SESSION_GAP_MS = 10_000;
