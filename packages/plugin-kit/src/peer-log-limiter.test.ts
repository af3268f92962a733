import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@mobius/interface';
import { PeerLogLimiter } from './peer-log-limiter.js';

/** A logger that keeps every line, in order, with its level. */
class CountingLogger implements Logger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  private add(level: string, obj: object, msg?: string): void {
    this.lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  }
  debug = (obj: object, msg?: string): void => this.add('debug', obj, msg);
  info = (obj: object, msg?: string): void => this.add('info', obj, msg);
  warn = (obj: object, msg?: string): void => this.add('warn', obj, msg);
  error = (obj: object, msg?: string): void => this.add('error', obj, msg);
  child = (): Logger => this;
}

describe('PeerLogLimiter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('logs the first perPeer lines of one peer, then one "repeated K times" line when the window ends', () => {
    const logger = new CountingLogger();
    const log = new PeerLogLimiter(logger, { windowMs: 1000, perPeer: 3 });
    for (let i = 0; i < 1000; i++) log.report('error', 'peer-a', 'malformed message dropped', { reason: `bad ${i}` });
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines.map((l) => l.obj.reason)).toEqual(['bad 0', 'bad 1', 'bad 2']);
    expect(logger.lines[0].obj.peer).toBe('peer-a');
    vi.advanceTimersByTime(1000);
    expect(logger.lines).toHaveLength(4);
    expect(logger.lines[3]).toMatchObject({ level: 'error', msg: 'malformed message dropped (repeated 997 times in the last 1 s)', obj: { peer: 'peer-a', repeated: 997 } });
    expect(log.count).toBe(1000);

    // A new window logs again.
    log.report('error', 'peer-a', 'malformed message dropped', { reason: 'again' });
    expect(logger.lines).toHaveLength(5);
    vi.advanceTimersByTime(1000);
    expect(logger.lines).toHaveLength(5); // nothing was left out: no summary
  });

  it('limits each (peer, message) pair on its own', () => {
    const logger = new CountingLogger();
    const log = new PeerLogLimiter(logger, { windowMs: 1000, perPeer: 2, perWindow: 100 });
    for (let i = 0; i < 10; i++) {
      log.report('error', 'a', 'malformed message dropped', {});
      log.report('error', 'b', 'malformed message dropped', {});
      log.report('warn', 'a', 'control push dropped: no push handler', {});
    }
    expect(logger.lines).toHaveLength(6);
    log.flush();
    expect(logger.lines.slice(6).map((l) => l.msg)).toEqual([
      'malformed message dropped (repeated 8 times in the last 1 s)',
      'malformed message dropped (repeated 8 times in the last 1 s)',
      'control push dropped: no push handler (repeated 8 times in the last 1 s)',
    ]);
    expect(logger.lines[8].level).toBe('warn');
  });

  it('bounds the lines of a window when every message comes from a new peer (a scanner opening connections)', () => {
    const logger = new CountingLogger();
    const log = new PeerLogLimiter(logger, { windowMs: 1000, perPeer: 5, perWindow: 10, maxKeys: 50 });
    for (let i = 0; i < 10_000; i++) log.report('error', `peer-${i}`, 'malformed message dropped', {});
    expect(logger.lines).toHaveLength(10);
    vi.advanceTimersByTime(1000);
    // No pair repeated: the 9,990 left out are counted in one line.
    expect(logger.lines).toHaveLength(11);
    expect(logger.lines[10]).toMatchObject({ msg: '9990 more errors caused by peers were not logged in the last 1 s', obj: { suppressed: 9990 } });
  });

  it('writes at most perWindow summary lines, and one line for the rest', () => {
    const logger = new CountingLogger();
    const log = new PeerLogLimiter(logger, { windowMs: 1000, perPeer: 1, perWindow: 4 });
    for (let p = 0; p < 10; p++) for (let i = 0; i < 3; i++) log.report('error', `peer-${p}`, 'malformed message dropped', {});
    expect(logger.lines).toHaveLength(4);
    log.flush();
    // 4 first lines, 4 summaries, one line counting the peers that got no line: all 30 reports accounted for.
    expect(logger.lines).toHaveLength(9);
    const summarised = logger.lines.slice(4, 8).reduce((n, l) => n + Number(l.obj.repeated), 0);
    expect(4 + summarised + Number(logger.lines[8].obj.suppressed)).toBe(30);
  });

  it('its timer does not keep the process alive', () => {
    const log = new PeerLogLimiter(new CountingLogger());
    log.report('error', 'a', 'x', {});
    const timers = vi.getTimerCount();
    expect(timers).toBe(1);
    log.flush();
    expect(vi.getTimerCount()).toBe(0);
  });
});
