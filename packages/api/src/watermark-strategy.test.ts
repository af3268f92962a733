import { describe, expect, it } from 'vitest';
import type { WatermarkOutput } from '@mobius/interface';
import { WatermarkStrategy } from './watermark-strategy.js';

function recorder(): WatermarkOutput & { marks: number[] } {
  const marks: number[] = [];
  return { marks, emitWatermark: (w) => marks.push(w), markIdle: () => undefined, markActive: () => undefined };
}

describe('WatermarkStrategy', () => {
  it('forBoundedOutOfOrderness: the largest timestamp seen minus the bound minus 1, nothing before the first record', () => {
    const gen = WatermarkStrategy.forBoundedOutOfOrderness<number>(100).createWatermarkGenerator();
    const out = recorder();
    gen.onPeriodicEmit(out);
    expect(out.marks).toEqual([]);
    for (const t of [1_000, 1_500, 1_200]) gen.onEvent(t, t, out);
    gen.onPeriodicEmit(out);
    gen.onEvent(900, 900, out);
    gen.onPeriodicEmit(out);
    expect(out.marks).toEqual([1_399, 1_399]);
  });

  it('forMonotonousTimestamps: the largest timestamp minus 1', () => {
    const gen = WatermarkStrategy.forMonotonousTimestamps<number>().createWatermarkGenerator();
    const out = recorder();
    gen.onEvent(0, 42, out);
    gen.onPeriodicEmit(out);
    expect(out.marks).toEqual([41]);
  });

  it('withTimestampAssigner and withIdleness return new strategies; each task gets its own generator', () => {
    const base = WatermarkStrategy.forBoundedOutOfOrderness<{ t: number }>(0);
    const timed = base.withTimestampAssigner((r) => r.t);
    const idle = timed.withIdleness(5_000);
    expect(base.createTimestampAssigner()).toBeUndefined();
    expect(timed.createTimestampAssigner()!({ t: 7 }, NaN)).toBe(7);
    expect(timed.idlenessMs).toBeUndefined();
    expect(idle.idlenessMs).toBe(5_000);
    expect(idle.createTimestampAssigner()!({ t: 8 }, NaN)).toBe(8);
    expect(timed.createWatermarkGenerator()).not.toBe(timed.createWatermarkGenerator());
  });

  it('rejects a negative bound, a zero or negative idleness and a non-function assigner, naming the problem', () => {
    expect(() => WatermarkStrategy.forBoundedOutOfOrderness(-1)).toThrow(/forBoundedOutOfOrderness\(\): the bound must be a finite number of ms at least 0, got -1/);
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0)).toThrow(/withIdleness\(\) needs more than 0 ms/);
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(-5)).toThrow(/withIdleness\(\) must be/);
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withTimestampAssigner(42 as never)).toThrow(/withTimestampAssigner\(\) takes a function, got number/);
  });
});
