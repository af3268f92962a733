import { describe, expect, it } from 'vitest';
import { ConfigError, CoreOptions } from '@mobius/interface';
import { autoscalerOptions, validateAutoscalerOptions } from './autoscaler-options.js';
import { AutoscalerPolicy } from './autoscaler-policy.js';

/** Asserts that `fn` throws a ConfigError with these fields. */
function expectConfigError(fn: () => unknown, fields: { key: string; message: RegExp | string }): void {
  expect(fn).toThrow(ConfigError);
  expect(fn).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID_VALUE', key: fields.key }));
  expect(fn).toThrow(fields.message);
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
    expectConfigError(() => autoscalerOptions({ [key]: value }), { key, message: `config key '${key}' in the autoscaler options: ${why}` });
  });

  it('rejects a boundary that reaches down to zero utilization', () => {
    expectConfigError(() => autoscalerOptions({ 'autoscaler.target-utilization': 0.5, 'autoscaler.target-utilization.boundary': 0.5 }), {
      key: 'autoscaler.target-utilization.boundary',
      message: /\(0\.5\) must be below 'autoscaler\.target-utilization' \(0\.5\)/,
    });
  });

  it('checks options built by hand, in the policy too', () => {
    const good = autoscalerOptions();
    expect(validateAutoscalerOptions(good)).toBe(good);
    expectConfigError(() => new AutoscalerPolicy({ ...good, scaleDownDelayMs: Number.POSITIVE_INFINITY }), {
      key: 'autoscaler.scale-down.delay.ms',
      message: 'expected an integer',
    });
  });
});
