import type { Logger } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { MalformedLog } from './malformed-log.js';

describe('MalformedLog', () => {
  it('counts every report and logs at most `burst` lines in a second', () => {
    const lines: { obj: object; msg?: string }[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (obj, msg) => lines.push({ obj, msg }), child: () => logger };
    const log = new MalformedLog(logger, 3);
    for (let i = 0; i < 10; i++) log.report('bad length', { peer: 'p', i });
    expect(log.count).toBe(10);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ obj: { peer: 'p', i: 0, reason: 'bad length' }, msg: 'malformed message dropped: bad length' });
  });
});
