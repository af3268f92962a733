import type { Logger } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { TransportEvents } from './transport-events.js';

function recordingLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error(_obj, msg) {
      errors.push(msg ?? '');
    },
    child: () => logger,
  };
  return { logger, errors };
}

describe('TransportEvents', () => {
  it('calls every listener of the event, in order, with the peer', () => {
    const events = new TransportEvents();
    const calls: string[] = [];
    events.on('peer-lost', (p) => calls.push(`a:${p}`));
    events.on('peer-lost', (p) => calls.push(`b:${p}`));
    events.on('peer-reconnected', (p) => calls.push(`c:${p}`));
    events.emit('peer-lost', 'tcp://x:1');
    expect(calls).toEqual(['a:tcp://x:1', 'b:tcp://x:1']);
  });

  it('with a logger, a listener that throws is logged and the next still runs', () => {
    const { logger, errors } = recordingLogger();
    const events = new TransportEvents(logger);
    let second = false;
    events.on('peer-lost', () => {
      throw new Error('boom');
    });
    events.on('peer-lost', () => (second = true));
    events.emit('peer-lost', 'p');
    expect(second).toBe(true);
    expect(errors).toEqual(['transport event listener threw']);
  });

  it('without a logger, the error reaches the caller', () => {
    const events = new TransportEvents();
    events.on('peer-lost', () => {
      throw new Error('boom');
    });
    expect(() => events.emit('peer-lost', 'p')).toThrow('boom');
  });
});
