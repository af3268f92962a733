import { TimeAssigner } from './time-assigner.js';
import { TimeWindow, getWindowStartWithOffset } from './time-window.js';
import { offsetWithin, positiveMs, slideWithin } from './window-checks.js';

/** Windows of `size` starting every `slide`: a record is in about size / slide windows. */
abstract class SlidingWindows extends TimeAssigner {
  protected constructor(
    isEventTime: boolean,
    call: string,
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super(isEventTime, `${call.split('.')[0]}(${size}, ${slide})`);
  }

  /** Flink's SlidingEventTimeWindows.assignWindows: every window starting on a slide that holds `time`. */
  protected windowsAt(time: number): TimeWindow[] {
    const windows: TimeWindow[] = [];
    const lastStart = getWindowStartWithOffset(time, this.offset, this.slide);
    for (let start = lastStart; start > time - this.size; start -= this.slide) windows.push(new TimeWindow(start, start + this.size));
    return windows;
  }
}

function checked(call: string, sizeMs: number, slideMs: number, offsetMs: number): [number, number, number] {
  const size = positiveMs(call, 'size', sizeMs);
  const slide = slideWithin(call, size, slideMs);
  return [size, slide, offsetWithin(call, slide, offsetMs)];
}

/** Sliding windows by event time. */
export class SlidingEventTimeWindows extends SlidingWindows {
  private constructor(size: number, slide: number, offset: number) {
    super(true, 'SlidingEventTimeWindows.of', size, slide, offset);
  }

  /** `0 < slide <= size`, `|offset| < slide`. */
  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingEventTimeWindows {
    return new SlidingEventTimeWindows(...checked('SlidingEventTimeWindows.of', sizeMs, slideMs, offsetMs));
  }
}

/** Sliding windows by the wall clock of the task when the record arrives. */
export class SlidingProcessingTimeWindows extends SlidingWindows {
  private constructor(size: number, slide: number, offset: number) {
    super(false, 'SlidingProcessingTimeWindows.of', size, slide, offset);
  }

  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingProcessingTimeWindows {
    return new SlidingProcessingTimeWindows(...checked('SlidingProcessingTimeWindows.of', sizeMs, slideMs, offsetMs));
  }
}
