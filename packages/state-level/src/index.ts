export { LevelStateBackend, LevelTaskState } from './level-state-backend.js';
export type { LevelStateBackendOptions, LevelStateSnapshot, LevelStateStats } from './level-state-backend.js';
