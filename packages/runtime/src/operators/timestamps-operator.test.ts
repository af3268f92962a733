import type { RuntimeContext, WatermarkStrategyLike } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { TimestampsOperator } from './timestamps-operator.js';

/** A processing-time service driven by the test: `advance(ms)` runs what became due. */
function manualClock() {
  let now = 0;
  const due: { time: number; run: (now: number) => void }[] = [];
  return {
    now: () => now,
    scheduleAt: (time: number, run: (now: number) => void) => void due.push({ time, run }),
    advance(ms: number) {
      now += ms;
      for (let i = 0; i < due.length; ) {
        if (due[i].time <= now) due.splice(i, 1)[0].run(now);
        else i++;
      }
    },
  };
}

function recording() {
  const events: string[] = [];
  return { events, collect: (r: unknown) => void events.push(`r ${String(r)}`), emitWatermark: (w: number) => void events.push(`wm ${w}`), markIdle: () => void events.push('idle') };
}

const strategy = (idlenessMs?: number): WatermarkStrategyLike<number> => ({
  createTimestampAssigner: () => (n) => n,
  createWatermarkGenerator() {
    let max = -Infinity;
    return {
      onEvent: (_n, ts) => void (max = Math.max(max, ts)),
      onPeriodicEmit: (out) => {
        if (max > -Infinity) out.emitWatermark(max - 1);
      },
    };
  },
  ...(idlenessMs !== undefined ? { idlenessMs } : {}),
});

async function operator(intervalMs: number, idlenessMs?: number) {
  const op = new TimestampsOperator({ operatorId: 'ts', operatorName: 'timestamps', taskIndex: 0 }, strategy(idlenessMs) as WatermarkStrategyLike<unknown>, intervalMs);
  const clock = manualClock();
  const out = recording();
  op.processingTime = clock;
  op.setOutput(out);
  await op.open({} as RuntimeContext);
  return { op, clock, out };
}

describe('TimestampsOperator', () => {
  it('emits the periodic watermark each interval, once per new value, and swallows upstream watermarks except +Infinity', async () => {
    const { op, clock, out } = await operator(200);
    op.collect(1_000);
    expect(op.time.timestamp).toBe(1_000);
    clock.advance(200);
    clock.advance(200); // unchanged: not sent again
    op.processWatermark(5_000); // upstream: replaced by this operator's own
    op.collect(1_500);
    clock.advance(200);
    op.processWatermark(Infinity);
    expect(out.events).toEqual(['r 1000', 'wm 999', 'r 1500', 'wm 1499', 'wm Infinity']);
  });

  it('marks its output idle after the idleness without records, and active again with the next record', async () => {
    const { op, clock, out } = await operator(100, 250);
    op.collect(10);
    clock.advance(100);
    clock.advance(100);
    clock.advance(100); // 300 ms since the record: idle
    clock.advance(100);
    op.collect(20);
    clock.advance(100);
    expect(out.events).toEqual(['r 10', 'wm 9', 'idle', 'wm 9', 'r 20', 'wm 19']);
  });

  it('fails with TIMESTAMP_INVALID naming the operator when the assigner returns no number', async () => {
    const { op } = await operator(0);
    expect(() => op.collect(Number.NaN)).toThrow(/timestamp assigner of "timestamps" returned NaN/);
  });
});
