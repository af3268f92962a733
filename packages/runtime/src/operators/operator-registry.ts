import { MobiusError, type ConfigMap, type LogicalNode, type SourceFunction, type TaskStateBackend } from '@mobius/interface';
import type { KeyContext } from '../state/key-context.js';
import type { TimerService } from '../timers/timer-service.js';
import type { OperatorIdentity } from './operator.js';
import type { PendingWrites } from './pending-writes.js';
import type { StreamOperator } from './stream-operator.js';

/** What a task gives an operator factory. */
export interface OperatorFactoryContext {
  readonly node: LogicalNode;
  readonly identity: OperatorIdentity;
  /** The user's function (a rich object is copied per task), or undefined. */
  readonly fn: unknown;
  /** True on a keyed stream: the task wraps the operator so the current key is set before each record. */
  readonly keyed: boolean;
  /** The current key (keyed operators; undefined otherwise). */
  readonly keys: KeyContext | undefined;
  /** The operator's state in this task (keyed and operator state), created on first use. */
  state(): TaskStateBackend;
  /**
   * The operator's timer service (keyed operators only), created on first use: timers fire
   * `onTimer` of the operator in the timer's key, and are checkpointed with the task.
   */
  timers(): TimerService;
  /**
   * What the task awaits for its operators: promises between input batches (async sink writes,
   * an async operator at capacity) and the async operators it drains at barriers and at the end.
   */
  readonly pending: PendingWrites;
  /** The job's options (an operator's own are in `node.config`). */
  readonly jobConfig: ConfigMap;
  /**
   * True when the task logs its determinants (single-task failover): its output must be the same
   * when it is regenerated, so an operator may not emit in an order the log does not record.
   */
  readonly logsDeterminants: boolean;
  /** The task's output batch size, e.g. for sources that read in batches. */
  readonly batchSize: number;
}

/** Builds the operator of one logical node in one task. */
export type OperatorFactory = (ctx: OperatorFactoryContext) => StreamOperator;

/** The head of a source task: the task runs its source loop on `source`. */
export interface SourceHead extends StreamOperator {
  readonly source: SourceFunction<unknown>;
}

const factories = new Map<string, OperatorFactory>();

/**
 * Registers the factory of an operator kind (a `LogicalNode.kind`). A new kind is one file that
 * calls this; registering a kind twice replaces the factory (tests, hot reload). Returns `kind`.
 */
export function registerOperator(kind: string, factory: OperatorFactory): string {
  factories.set(kind, factory);
  return kind;
}

/** The factory of `kind`, or a PLAN error naming the kind and what is registered. */
export function operatorFactory(kind: string): OperatorFactory {
  const factory = factories.get(kind);
  if (factory === undefined) {
    throw new MobiusError('OPERATOR_KIND_UNKNOWN', `no operator is registered for kind "${kind}" (registered: ${[...factories.keys()].join(', ')})`);
  }
  return factory;
}

/** The kinds registered so far. */
export function registeredOperatorKinds(): string[] {
  return [...factories.keys()];
}
