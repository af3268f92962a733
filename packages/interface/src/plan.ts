import type { ConfigMap } from './config.js';
import type { OperatorKind, PartitionKind } from './graph.js';

/** An inclusive range of key groups owned by one task. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** An operator after planning: parallelism resolved and its vertex known. */
export interface PlanOperator {
  readonly id: string;
  readonly name: string;
  readonly kind: OperatorKind;
  readonly parallelism: number;
  readonly vertexId: string;
  readonly config: ConfigMap;
  /** True when the operator reads a key-partitioned input (state is per key). */
  readonly keyed: boolean;
}

/** The slot-sharing group of an operator that names none and whose inputs do not agree (Flink's). */
export const DEFAULT_SLOT_SHARING_GROUP = 'default';

/** A chain of operators that runs as one task per parallel instance. */
export interface PlanVertex {
  readonly id: string;
  readonly name: string;
  /** Operators of the chain in topological order; the first is the head. */
  readonly operatorIds: readonly string[];
  readonly parallelism: number;
  /**
   * Slot-sharing group of the chain (`default` unless set): one task of each vertex of a group
   * may share a slot. Optional so that plans written before it read as `default`.
   */
  readonly slotSharingGroup?: string;
}

/** An edge of the plan. Chained edges are direct calls; the others have channels. */
export interface PlanEdge {
  /** `${source}->${target}` of the logical edge (`${source}[${tag}]->${target}` for a side output). */
  readonly id: string;
  readonly sourceOperator: string;
  readonly targetOperator: string;
  readonly sourceVertex: string;
  readonly targetVertex: string;
  readonly partition: PartitionKind;
  readonly chained: boolean;
  /** Position of this edge among the target operator's inputs. */
  readonly inputIndex: number;
  /** The side output of the source operator this edge carries (an OutputTag id); absent: the main output. */
  readonly sideOutput?: string;
}

/** One parallel instance of a vertex. */
export interface PlanTask {
  /** `${vertexId}#${index}`. */
  readonly id: string;
  readonly vertexId: string;
  readonly index: number;
  /** Key groups this task owns (meaningful for keyed operators). */
  readonly keyGroups: KeyGroupRange;
}

/** One channel: an (upstream task, downstream task) pair of a non-chained edge. */
export interface PlanChannel {
  /** `${edgeId}:${sourceIndex}->${targetIndex}`, stable across runs. */
  readonly id: string;
  readonly edgeId: string;
  readonly sourceTask: string;
  readonly targetTask: string;
}

/** The physical plan of a job: what runs where is decided by the scheduler from this. */
export interface ExecutionPlan {
  readonly jobName: string;
  /** Hash of the logical graph (structure, names, parallelism, config; not functions). */
  readonly graphHash: string;
  readonly maxParallelism: number;
  /** Job options with defaults applied. */
  readonly config: ConfigMap;
  readonly operators: readonly PlanOperator[];
  readonly vertices: readonly PlanVertex[];
  readonly edges: readonly PlanEdge[];
  readonly tasks: readonly PlanTask[];
  readonly channels: readonly PlanChannel[];
}
