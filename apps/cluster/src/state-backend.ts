import { StateBackendRegistry } from '@mobius/interface';
import { memoryStateBackendFactory } from '@mobius/runtime';
import { levelStateBackendFactory } from '@mobius/state-level';

/**
 * The state backends `mobius-cluster` ships (the same as `mobius`), chosen by `state.backend`.
 * Loading this module registers their config keys, so the coordinator and every worker plan
 * jobs that set them.
 */
export const stateBackends = new StateBackendRegistry([memoryStateBackendFactory, levelStateBackendFactory]);
