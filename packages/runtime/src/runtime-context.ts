import {
  MobiusError,
  configKey,
  type ConfigMap,
  type ConfigValue,
  type ListState,
  type ListStateDescriptor,
  type MapState,
  type MapStateDescriptor,
  type RuntimeContext,
  type ValueState,
  type ValueStateDescriptor,
} from '@mobius/interface';
import { StateAccess } from './state/state-access.js';

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
  /** The operator's state (keyed and operator state). Without it, state is not available. */
  readonly state?: StateAccess;
  /** Where now() and random() come from (a task's determinant log); default Date.now / Math.random. */
  readonly clock?: { now(): number; random(): number };
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
  private readonly state: StateAccess | undefined;
  private readonly clock: { now(): number; random(): number } | undefined;

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
    this.state = init.state;
    this.clock = init.clock;
  }

  now(): number {
    return this.clock === undefined ? Date.now() : this.clock.now();
  }

  random(): number {
    return this.clock === undefined ? Math.random() : this.clock.random();
  }

  getConfig(key: string): ConfigValue | undefined {
    return this.operatorConfig[key] ?? this.jobConfig[key] ?? configKey(key)?.default;
  }

  private access(): StateAccess {
    if (this.state === undefined) {
      throw new MobiusError('STATE_UNAVAILABLE', `operator "${this.operatorName}" (${this.operatorId}) has no state in this context`);
    }
    return this.state;
  }

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.access().getState(descriptor);
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.access().getListState(descriptor);
  }

  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.access().getMapState(descriptor);
  }

  getOperatorState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.access().getOperatorState(descriptor);
  }

  getUnionOperatorState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.access().getUnionOperatorState(descriptor);
  }
}
