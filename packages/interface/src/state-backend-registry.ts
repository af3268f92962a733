import { CoreOptions, getConfig, registerConfigKind, registerConfigOptions, type ConfigMap } from './config.js';
import { ConfigError } from './errors.js';
import type { StateBackend, StateSnapshot } from './state.js';
import type { StateBackendFactory } from './state-backend-factory.js';

/**
 * The state backends an app ships, looked up by `state.backend`. Building one registers every
 * factory's config keys and kind, so the planner accepts them in whichever process plans the
 * job (embedded, coordinator, worker, `mobius explain`).
 */
export class StateBackendRegistry {
  private readonly byKind = new Map<string, StateBackendFactory>();

  constructor(factories: readonly StateBackendFactory[]) {
    for (const f of factories) {
      registerConfigOptions(f.options);
      registerConfigKind(CoreOptions.STATE_BACKEND.key, f.kind);
      this.byKind.set(f.kind, f);
    }
  }

  /** The kinds this registry knows, in the order given. */
  kinds(): readonly string[] {
    return [...this.byKind.keys()];
  }

  /** The factory `state.backend` names; a ConfigError naming the key and the known kinds otherwise. */
  factoryFor(config: ConfigMap): StateBackendFactory {
    const kind = getConfig(config, CoreOptions.STATE_BACKEND);
    const factory = this.byKind.get(kind);
    if (factory === undefined) {
      const key = CoreOptions.STATE_BACKEND.key;
      throw new ConfigError('CONFIG_INVALID_VALUE', key, `config key '${key}': no state backend of kind ${JSON.stringify(kind)} here; known kinds: ${this.kinds().join(', ') || 'none'}`);
    }
    return factory;
  }

  /** The state backend a job asks for. */
  create(config: ConfigMap): StateBackend {
    return this.factoryFor(config).create(config);
  }

  /** Completed checkpoints to keep: `checkpoint.retained`, but never fewer than the backend needs to restore each. */
  retainedCheckpoints(config: ConfigMap): number {
    const retained = getConfig(config, CoreOptions.CHECKPOINT_RETAINED);
    const min = this.factoryFor(config).minRetainedCheckpoints?.(config) ?? 0;
    return Math.max(retained, min);
  }

  /** How a job's completed checkpoints are compacted in the background, or undefined when they need none. */
  compactor(config: ConfigMap): ((chain: readonly object[]) => object) | undefined {
    const factory = this.factoryFor(config);
    if (factory.compact === undefined) return undefined;
    const compact = factory.compact.bind(factory);
    return (chain) => compact(chain as readonly StateSnapshot[]);
  }

  /** Removes what a job's state backend left on disk once the job (or its tasks here) ended. */
  dispose(config: ConfigMap, jobId: string): void {
    this.factoryFor(config).dispose?.(jobId);
  }
}
