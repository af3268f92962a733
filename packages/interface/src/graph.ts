import type { ConfigMap } from './config.js';

/** The kinds of logical operators. */
export type BuiltinOperatorKind = 'source' | 'map' | 'flatMap' | 'filter' | 'reduce' | 'union' | 'sink' | 'collect';

/**
 * The kind of a logical operator: a built-in kind, or any kind registered in the runtime's
 * operator registry (`registerOperator(kind, factory)`): windows, process functions, joins.
 */
export type OperatorKind = BuiltinOperatorKind | (string & Record<never, never>);

/** Language an operator's function is written in. */
export type OperatorLanguage = 'typescript' | 'python';

/** How records of an edge are routed from the upstream tasks to the downstream tasks. */
export type PartitionKind = 'forward' | 'rebalance' | 'key' | 'broadcast' | 'custom';

/**
 * Partitioning of an edge. Functions (key selectors, custom partitioners) are held by
 * reference and left out of the graph hash.
 */
export interface PartitionSpec {
  readonly kind: PartitionKind;
  /** For `key`: extracts the key of a record. */
  readonly keySelector?: (record: never) => unknown;
  /** For `custom`: returns the target index or indices. */
  readonly partitioner?: unknown;
  /** True when the kind was chosen by the user (`forward()`), false when defaulted. */
  readonly explicit: boolean;
}

/** Which built-in source an operator is, with its parameters. */
export type SourceSpec =
  | { readonly type: 'collection'; readonly size: number }
  | { readonly type: 'textFile'; readonly path: string }
  | { readonly type: 'function' };

/** One operator of the user's job, before planning. */
export interface LogicalNode {
  /** Operator id: the uid if given, else derived from the position in the graph. */
  readonly id: string;
  readonly uid: string | undefined;
  readonly name: string;
  readonly kind: OperatorKind;
  /** Explicit parallelism, or undefined to inherit (sources: `parallelism.default`). */
  readonly parallelism: number | undefined;
  readonly config: ConfigMap;
  /** False when `disableChain()` was called. */
  readonly chaining: boolean;
  /**
   * Slot-sharing group set with `slotSharingGroup(name)`; undefined to inherit the inputs' group
   * (`default` for sources and for inputs in different groups).
   */
  readonly slotSharingGroup?: string;
  readonly language: OperatorLanguage;
  /** The user's function or rich function object (not part of the graph hash). */
  readonly fn: unknown;
  /** For sources: which source and its parameters. */
  readonly source?: SourceSpec;
  /** For sources: the data of fromValues / fromCollection (not part of the graph hash). */
  readonly data?: readonly unknown[];
}

/** A directed edge between two operators. */
export interface LogicalEdge {
  readonly source: string;
  readonly target: string;
  readonly partition: PartitionSpec;
  /**
   * The side output this edge reads (`getSideOutput(tag)`: the tag's id), or undefined for the
   * operator's main output.
   */
  readonly sideOutput?: string;
}

/** The job as the user built it: operators and edges, plus job-level options. */
export interface LogicalGraph {
  readonly config: ConfigMap;
  readonly nodes: readonly LogicalNode[];
  readonly edges: readonly LogicalEdge[];
}
