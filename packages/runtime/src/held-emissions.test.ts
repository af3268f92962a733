import { BackpressureError } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { HeldEmissions, type EmissionTarget } from './held-emissions.js';
import { rejection, thrown, track } from './test-channels.js';

/** A target that logs what reaches it; `failAt`: the record whose emission throws. */
function target(failAt?: unknown): { readonly log: string[]; readonly out: EmissionTarget } {
  const log: string[] = [];
  return {
    log,
    out: {
      emit(record, timestamp) {
        if (record === failAt) throw new Error(`cannot emit ${String(record)}`);
        log.push(`${String(record)}@${timestamp}`);
      },
      emitWatermark: (wm) => void log.push(`wm ${wm}`),
      markAsTemporarilyIdle: () => void log.push('idle'),
    },
  };
}

describe('HeldEmissions', () => {
  it('lets through records, watermarks and idleness in the order held, consecutive watermarks as their maximum', async () => {
    const held = new HeldEmissions(4, 'source "s" task #0');
    held.watermark(5);
    held.watermark(9);
    held.watermark(7);
    const a = track(held.record('a', 10));
    held.idle();
    held.idle();
    const b = track(held.record('b', NaN));
    const { log, out } = target();
    expect(await held.release(out)).toBeUndefined();
    expect(log).toEqual(['wm 9', 'a@10', 'idle', 'b@NaN']);
    await Promise.all([a.promise, b.promise]);
  });

  it("a record's promise settles only when it is let through", async () => {
    const held = new HeldEmissions(4, 'source "s" task #0');
    const a = track(held.record('a', 1));
    await Promise.resolve();
    expect(a.done).toBe(false);
    await held.release(target().out);
    await a.promise;
    expect(a.done).toBe(true);
  });

  it('more records than the limit (a source that did not await collect) fail with BackpressureError naming the source', () => {
    const held = new HeldEmissions(2, 'source "clicks" task #1');
    void held.record(1, NaN);
    void held.record(2, NaN);
    const error = thrown(() => held.record(3, NaN));
    expect(error).toBeInstanceOf(BackpressureError);
    expect((error as Error).message).toContain('source "clicks" task #1 collected 3 records');
  });

  it('a failed emission rejects that record and the ones after it (their emissions skipped); one on a watermark comes back', async () => {
    const held = new HeldEmissions(4, 'source "s" task #0');
    const a = held.record('a', 1);
    const b = held.record('b', 2);
    held.watermark(3);
    const c = held.record('c', 4);
    const { log, out } = target('b');
    expect(await held.release(out)).toBeUndefined();
    await a;
    expect(((await rejection(b)) as Error).message).toBe('cannot emit b');
    expect(((await rejection(c)) as Error).message).toBe('cannot emit b');
    expect(log).toEqual(['a@1']);

    const onlyWatermark = new HeldEmissions(4, 'source "s" task #0');
    onlyWatermark.watermark(1);
    const failing: EmissionTarget = {
      ...target().out,
      emitWatermark: () => {
        throw new Error('bad watermark');
      },
    };
    expect(((await onlyWatermark.release(failing))?.error as Error).message).toBe('bad watermark');
  });
});
