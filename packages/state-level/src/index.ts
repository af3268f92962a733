export { LevelStateBackend, LevelTaskState } from './level-state-backend.js';
export type { LevelStateBackendOptions, LevelStateSnapshot, LevelStateStats } from './level-state-backend.js';
export { LevelCheckpointStore } from './level-checkpoint-store.js';
export type { LevelCheckpointStoreOptions } from './level-checkpoint-store.js';
export { compactLevelSnapshots } from './compact-snapshots.js';
export { levelStateBackendFactory, levelStateRoot, LevelOptions } from './level-state-backend-factory.js';
