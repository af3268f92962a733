export { JobMaster } from './job-master.js';
export type { JobMasterOptions, JobCheckpointOptions, JobTask, JobEnd } from './job-master.js';
export type { StateCompactor } from './checkpointing.js';
export { RestartStrategy, systemRestartClock } from './restart-strategy.js';
export type { RestartStrategyName, RestartClock } from './restart-strategy.js';
export { FixedDelayBackoff, ExponentialDelayBackoff, FailureRateBackoff } from './restart-backoff.js';
export type { FailureBackoff, RestartDecision, ExponentialDelayOptions } from './restart-backoff.js';
export { AttemptFences } from './attempt-fences.js';
export { FsJobStore, MemoryJobStore } from './job-store.js';
export { InProcessGateway } from './in-process-gateway.js';
export type { InProcessGatewayOptions } from './in-process-gateway.js';
export { JobTaskExecutor } from './task-executor.js';
export type { TaskExecutorOptions, ExecutorDeployment } from './task-executor.js';
export { ThreadedGateway } from './threads/threaded-gateway.js';
export type { ThreadedGatewayOptions } from './threads/threaded-gateway.js';
export { ThreadTaskHost } from './threads/thread-task-host.js';
export type { ThreadTaskHostOptions } from './threads/thread-task-host.js';
export { placeTasks, taskSlots } from './threads/thread-placement.js';
export type { JobSource, ToTaskThread, FromTaskThread, ErrorInfo } from './threads/task-thread-protocol.js';
export { ThreadRpc } from './threads/thread-rpc.js';
export { metricsInPlanOrder } from './threads/metrics-in-plan-order.js';
export { RescaledPlans } from './rescaled-plans.js';
export type { MessagePortLike } from './threads/thread-rpc.js';
export type { TaskHost, HostedTasks } from './task-host.js';
export type { ExecutorServices } from './task-executor.js';
export { readTaskSnapshots, storeCheckpointListener } from './task-snapshots.js';
export type { CheckpointAcks } from './task-snapshots.js';
export { encodeCollectBatch, decodeCollectBatch } from './threads/collect-batches.js';
export type { CollectBatch } from './threads/collect-batches.js';
export { threadEntry } from './threads/thread-entry.js';
// The autoscaler's decision side (issue 12): DS2 parallelisms from the vertices' load figures,
// with a band, a stabilization time and a scale-down delay; the job master applies its decisions.
export { AutoscalerPolicy } from './autoscaler/autoscaler-policy.js';
export { autoscalerOptions, validateAutoscalerOptions } from './autoscaler/autoscaler-options.js';
export type { AutoscalerOptions } from './autoscaler/autoscaler-options.js';
export { ds2Rates } from './autoscaler/ds2-rates.js';
export type { VertexRates } from './autoscaler/ds2-rates.js';
export { orderVertices } from './autoscaler/vertex-load.js';
export type { TaskLoad, VertexLoad, AutoscalerInput } from './autoscaler/vertex-load.js';
export type { AutoscalerDecision, AutoscalerLimit } from './autoscaler/autoscaler-limits.js';
export type { AutoscalerEvent } from './autoscaler/autoscaler-event.js';
// The autoscaler's loop (issue 12): evaluates the policy every autoscaler.interval.ms while the
// job runs and applies taken decisions by live rescaling (JobMaster.autoscaler, autoscalerEvents()).
export { AutoscalerLoop, systemLoopTimer } from './autoscaler/autoscaler-loop.js';
export type { AutoscaledJob, AutoscalerLoopOptions, LoopTimer } from './autoscaler/autoscaler-loop.js';
export { AutoscalerEventLog, AUTOSCALER_EVENT_LOG_CAPACITY } from './autoscaler/autoscaler-event-log.js';
export { autoscalerInput } from './autoscaler/autoscaler-input.js';
export { operatorLoads } from './operator-load.js';
export type { OperatorLoad } from './operator-load.js';
