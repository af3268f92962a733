export { JobMaster } from './job-master.js';
export type { JobMasterOptions, JobCheckpointOptions, JobTask, JobEnd } from './job-master.js';
export type { StateCompactor } from './checkpointing.js';
export { RestartStrategy } from './restart-strategy.js';
export { FsJobStore, MemoryJobStore } from './job-store.js';
export { InProcessGateway } from './in-process-gateway.js';
export type { InProcessGatewayOptions } from './in-process-gateway.js';
export { JobTaskExecutor } from './task-executor.js';
export type { TaskExecutorOptions, ExecutorDeployment } from './task-executor.js';
