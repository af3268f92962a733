import { TimeAssigner } from './time-assigner.js';
import { TimeWindow, getWindowStartWithOffset } from './time-window.js';
import { offsetWithin, positiveMs } from './window-checks.js';

/** Windows of a fixed size that do not overlap: each record is in exactly one. */
abstract class TumblingWindows extends TimeAssigner {
  protected constructor(
    isEventTime: boolean,
    call: string,
    readonly size: number,
    readonly offset: number,
  ) {
    super(isEventTime, `${call.split('.')[0]}(${size})`);
  }

  protected windowsAt(time: number): TimeWindow[] {
    const start = getWindowStartWithOffset(time, this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
}

function checked(call: string, sizeMs: number, offsetMs: number): [number, number] {
  const size = positiveMs(call, 'size', sizeMs);
  return [size, offsetWithin(call, size, offsetMs)];
}

/** Tumbling windows by event time: `[k * size + offset, (k + 1) * size + offset)`. */
export class TumblingEventTimeWindows extends TumblingWindows {
  private constructor(size: number, offset: number) {
    super(true, 'TumblingEventTimeWindows.of', size, offset);
  }

  /** `|offset| < size` (e.g. a time zone shift). */
  static of(sizeMs: number, offsetMs = 0): TumblingEventTimeWindows {
    return new TumblingEventTimeWindows(...checked('TumblingEventTimeWindows.of', sizeMs, offsetMs));
  }
}

/** Tumbling windows by the wall clock of the task when the record arrives. */
export class TumblingProcessingTimeWindows extends TumblingWindows {
  private constructor(size: number, offset: number) {
    super(false, 'TumblingProcessingTimeWindows.of', size, offset);
  }

  static of(sizeMs: number, offsetMs = 0): TumblingProcessingTimeWindows {
    return new TumblingProcessingTimeWindows(...checked('TumblingProcessingTimeWindows.of', sizeMs, offsetMs));
  }
}
