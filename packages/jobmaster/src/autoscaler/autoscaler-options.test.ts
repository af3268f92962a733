import { describe, expect, it } from 'vitest';
import { ConfigError, CoreOptions } from '@mobius/interface';
import { autoscalerOptions, validateAutoscalerOptions } from './autoscaler-options.js';
import { AutoscalerPolicy } from './autoscaler-policy.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('autoscalerOptions', () => {
  it('reads the declared defaults', () => {
    expect(autoscalerOptions()).toEqual({
      enabled: false,
      intervalMs: CoreOptions.AUTOSCALER_INTERVAL_MS.default,
      targetUtilization: 0.7,
      targetUtilizationBoundary: CoreOptions.AUTOSCALER_TARGET_UTILIZATION_BOUNDARY.default,
      stabilizationMs: CoreOptions.AUTOSCALER_STABILIZATION_MS.default,
      scaleDownDelayMs: CoreOptions.AUTOSCALER_SCALE_DOWN_DELAY_MS.default,
      maxParallelism: CoreOptions.AUTOSCALER_MAX_PARALLELISM.default,
    });
  });

  it('reads what a job sets', () => {
    const o = autoscalerOptions({ 'autoscaler.enabled': true, 'autoscaler.target-utilization': 0.5, 'autoscaler.max-parallelism': 16 });
    expect(o).toMatchObject({ enabled: true, targetUtilization: 0.5, maxParallelism: 16 });
  });

  it.each([
    ['autoscaler.target-utilization', 0, 'must be at least 0.05'],
    ['autoscaler.target-utilization', 1.5, 'must be at most 1'],
    ['autoscaler.target-utilization', Number.NaN, 'expected a number'],
    ['autoscaler.interval.ms', 0, 'must be at least 1'],
    ['autoscaler.interval.ms', 2.5, 'expected an integer'],
    ['autoscaler.stabilization.ms', -1, 'must be at least 0'],
    ['autoscaler.scale-down.delay.ms', '60s', 'expected an integer'],
    ['autoscaler.max-parallelism', 0, 'must be at least 1'],
    ['autoscaler.enabled', 'yes', 'expected a boolean'],
  ] as const)('rejects %s = %s, naming the key', (key, value, why) => {
    const e = configError(() => autoscalerOptions({ [key]: value }));
    expect(e.code).toBe('CONFIG_INVALID_VALUE');
    expect(e.key).toBe(key);
    expect(e.message).toContain(`'${key}'`);
    expect(e.message).toContain(why);
  });

  it('rejects a boundary that reaches down to zero utilization', () => {
    const e = configError(() => autoscalerOptions({ 'autoscaler.target-utilization': 0.5, 'autoscaler.target-utilization.boundary': 0.5 }));
    expect(e.code).toBe('CONFIG_INVALID_VALUE');
    expect(e.key).toBe('autoscaler.target-utilization.boundary');
    expect(e.message).toMatch(/\(0\.5\) must be below 'autoscaler\.target-utilization' \(0\.5\)/);
  });

  it('checks options built by hand, in the policy too', () => {
    const good = autoscalerOptions();
    expect(validateAutoscalerOptions(good)).toBe(good);
    const e = configError(() => new AutoscalerPolicy({ ...good, scaleDownDelayMs: Number.POSITIVE_INFINITY }));
    expect(e.key).toBe('autoscaler.scale-down.delay.ms');
  });
});
