import { ConfigError, CoreOptions, getConfig, validateConfigEntry, type ConfigMap } from '@mobius/interface';

/** The `autoscaler.*` options of a job, read once. */
export interface AutoscalerOptions {
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly targetUtilization: number;
  readonly targetUtilizationBoundary: number;
  readonly stabilizationMs: number;
  readonly scaleDownDelayMs: number;
  readonly maxParallelism: number;
}

const FIELDS = [
  ['enabled', CoreOptions.AUTOSCALER_ENABLED],
  ['intervalMs', CoreOptions.AUTOSCALER_INTERVAL_MS],
  ['targetUtilization', CoreOptions.AUTOSCALER_TARGET_UTILIZATION],
  ['targetUtilizationBoundary', CoreOptions.AUTOSCALER_TARGET_UTILIZATION_BOUNDARY],
  ['stabilizationMs', CoreOptions.AUTOSCALER_STABILIZATION_MS],
  ['scaleDownDelayMs', CoreOptions.AUTOSCALER_SCALE_DOWN_DELAY_MS],
  ['maxParallelism', CoreOptions.AUTOSCALER_MAX_PARALLELISM],
] as const;

/**
 * Checks options built by hand as the planner checks a job's keys (type and range, a
 * ConfigError naming the key), and what no single key can: the band around the target must
 * stay above zero, else an idle operator would sit inside it and never scale down.
 */
export function validateAutoscalerOptions(options: AutoscalerOptions): AutoscalerOptions {
  for (const [field, option] of FIELDS) validateConfigEntry(option.key, options[field], 'job', 'the autoscaler options');
  if (options.targetUtilizationBoundary >= options.targetUtilization) {
    const key = CoreOptions.AUTOSCALER_TARGET_UTILIZATION_BOUNDARY.key;
    throw new ConfigError(
      'CONFIG_INVALID_VALUE',
      key,
      `config key '${key}' (${options.targetUtilizationBoundary}) must be below '${CoreOptions.AUTOSCALER_TARGET_UTILIZATION.key}' (${options.targetUtilization}): the band where the autoscaler does nothing would reach 0 utilization`,
    );
  }
  return options;
}

/** The autoscaler options of a job's config map (defaults for keys it does not set), validated. */
export function autoscalerOptions(config: ConfigMap = {}): AutoscalerOptions {
  return validateAutoscalerOptions({
    enabled: getConfig(config, CoreOptions.AUTOSCALER_ENABLED),
    intervalMs: getConfig(config, CoreOptions.AUTOSCALER_INTERVAL_MS),
    targetUtilization: getConfig(config, CoreOptions.AUTOSCALER_TARGET_UTILIZATION),
    targetUtilizationBoundary: getConfig(config, CoreOptions.AUTOSCALER_TARGET_UTILIZATION_BOUNDARY),
    stabilizationMs: getConfig(config, CoreOptions.AUTOSCALER_STABILIZATION_MS),
    scaleDownDelayMs: getConfig(config, CoreOptions.AUTOSCALER_SCALE_DOWN_DELAY_MS),
    maxParallelism: getConfig(config, CoreOptions.AUTOSCALER_MAX_PARALLELISM),
  });
}
