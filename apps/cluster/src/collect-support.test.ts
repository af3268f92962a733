import { StreamingContext } from '@mobius/api';
import { describe, expect, it } from 'vitest';
import { refuseCollectSinks } from './collect-support.js';

describe('refuseCollectSinks', () => {
  it('refuses a job with a collect sink, naming the job, the sink and what to do', () => {
    const ctx = new StreamingContext();
    void ctx.fromValues(1, 2).map((x) => x + 1).collectAsync();
    expect(() => refuseCollectSinks(ctx.plan('collecting'))).toThrow(
      expect.objectContaining({ code: 'COLLECT_UNSUPPORTED', message: expect.stringMatching(/job "collecting" ends in a collect sink \("collect", collect-3\).*run the job embedded/) }),
    );
  });

  it('lets a job without one through', () => {
    const ctx = new StreamingContext();
    ctx.fromValues(1, 2).sink(() => {});
    expect(() => refuseCollectSinks(ctx.plan('plain'))).not.toThrow();
  });
});
