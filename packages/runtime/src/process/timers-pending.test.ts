import { describe, expect, it } from 'vitest';
import { KeyContext } from '../state/key-context.js';
import { stateKeyGroupOf } from '../state/operator-state.js';
import { TimerService } from '../timers/timer-service.js';
import { timersPending } from './timers-pending.js';

describe('timersPending', () => {
  it('counts the live timers of each operator, both domains, and drops fired and deleted ones', () => {
    const keys = new KeyContext('op');
    const a = new TimerService(keys, stateKeyGroupOf(128));
    const b = new TimerService(keys, stateKeyGroupOf(128));
    keys.currentKey = 'k';
    a.registerEventTimeTimer(10);
    a.registerEventTimeTimer(10);
    a.registerEventTimeTimer(20);
    a.registerProcessingTimeTimer(5);
    b.registerEventTimeTimer(1);
    b.deleteEventTimeTimer(1);
    const services = new Map([
      ['op-a', a],
      ['op-b', b],
    ]);
    expect(timersPending(services)).toEqual({ 'op-a': 3, 'op-b': 0 });
    a.advanceWatermark(10);
    expect(timersPending(services)).toEqual({ 'op-a': 2, 'op-b': 0 });
  });
});
