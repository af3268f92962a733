import { describe, expect, it } from 'vitest';
import { AttemptFences } from './attempt-fences.js';

describe('AttemptFences', () => {
  it('refuses a deployment of an attempt at or below the highest one cancelled, per job', () => {
    const fences = new AttemptFences();
    fences.cancelled('job-1', { before: { 'a#0': 3, 'b#0': 1 } }, []);
    expect(fences.fencedThrough('job-1')).toBe(2);
    expect(() => fences.check('job-1', [{ taskId: 'b#0', attempt: 2 }])).toThrow(/job job-1: attempts up to 2 were cancelled before this deployment completed; not starting b#0 \(attempt 2\)/);
    try {
      fences.check('job-1', [{ taskId: 'b#0', attempt: 0 }]);
    } catch (e) {
      expect((e as { code?: string }).code).toBe('DEPLOY_FENCED');
    }
    expect(() => fences.check('job-1', [{ taskId: 'a#0', attempt: 3 }])).not.toThrow();
    expect(() => fences.check('job-2', [{ taskId: 'a#0', attempt: 0 }])).not.toThrow();
  });

  it('a cancel without a fence covers the attempts the worker runs; a lower fence never lowers it', () => {
    const fences = new AttemptFences();
    fences.cancelled('job-1', undefined, [4, 2]);
    expect(fences.fencedThrough('job-1')).toBe(4);
    fences.cancelled('job-1', { before: { 'a#0': 1 } }, []);
    expect(fences.fencedThrough('job-1')).toBe(4);
    fences.cancelled('job-1', {}, []);
    expect(fences.fencedThrough('job-1')).toBe(4);
  });
});
