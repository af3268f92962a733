export { Task } from './task.js';
export type { TaskDeployment, TaskServices, TaskState } from './task.js';
export { MemoryStateBackend } from './memory-state-backend.js';
export { TaskRuntimeContext } from './runtime-context.js';
export type { RuntimeContextInit } from './runtime-context.js';
export { CollectionSource } from './sources/collection-source.js';
export { TextFileSource } from './sources/text-file-source.js';
