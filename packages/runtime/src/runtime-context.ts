import { configKey, type ConfigMap, type ConfigValue, type RuntimeContext } from '@mobius/interface';

export interface RuntimeContextInit {
  readonly jobId: string;
  readonly jobName: string;
  readonly operatorId: string;
  readonly operatorName: string;
  readonly taskIndex: number;
  readonly parallelism: number;
  readonly attempt: number;
  readonly maxParallelism: number;
  readonly jobConfig: ConfigMap;
  readonly operatorConfig: ConfigMap;
}

/** The context a rich function receives in open(). */
export class TaskRuntimeContext implements RuntimeContext {
  readonly jobId: string;
  readonly jobName: string;
  readonly operatorId: string;
  readonly operatorName: string;
  readonly taskIndex: number;
  readonly parallelism: number;
  readonly attempt: number;
  readonly maxParallelism: number;
  readonly jobConfig: ConfigMap;
  readonly operatorConfig: ConfigMap;

  constructor(init: RuntimeContextInit) {
    this.jobId = init.jobId;
    this.jobName = init.jobName;
    this.operatorId = init.operatorId;
    this.operatorName = init.operatorName;
    this.taskIndex = init.taskIndex;
    this.parallelism = init.parallelism;
    this.attempt = init.attempt;
    this.maxParallelism = init.maxParallelism;
    this.jobConfig = init.jobConfig;
    this.operatorConfig = init.operatorConfig;
  }

  getConfig(key: string): ConfigValue | undefined {
    return this.operatorConfig[key] ?? this.jobConfig[key] ?? configKey(key)?.default;
  }
}
