/**
 * Typed errors shared by every Mobius package. Each carries a stable `code` that tests and
 * users can match on; messages name the thing that is wrong (a key, an operator, a task).
 */
export class MobiusError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration key that is unknown, or a value of the wrong type or range. */
export class ConfigError extends MobiusError {
  readonly key: string;

  constructor(code: 'CONFIG_UNKNOWN_KEY' | 'CONFIG_INVALID_VALUE' | 'CONFIG_WRONG_SCOPE' | 'CONFIG_DUPLICATE_KEY', key: string, message: string) {
    super(code, message);
    this.key = key;
  }
}

/** Codes of plan validation errors. */
export type PlanErrorCode =
  | 'PLAN_INVALID_PARALLELISM'
  | 'PLAN_NOT_KEYED'
  | 'PLAN_SELF_UNION'
  | 'PLAN_CYCLE'
  | 'PLAN_FORWARD_PARALLELISM'
  | 'PLAN_DUPLICATE_UID'
  | 'PLAN_UNKNOWN_OPERATOR'
  | 'PLAN_EMPTY'
  | 'PLAN_NO_INPUT'
  | 'PLAN_INVALID_FUNCTION'
  | 'PLAN_MAX_PARALLELISM'
  | 'PLAN_INVALID_SLOT_SHARING_GROUP'
  | 'PLAN_INVALID_WINDOW'
  | 'PLAN_NO_TIMESTAMPS';

/** A job graph that cannot be planned: the message names the operator and the rule. */
export class PlanError extends MobiusError {
  readonly operatorId: string | undefined;

  constructor(code: PlanErrorCode, message: string, operatorId?: string) {
    super(code, message);
    this.operatorId = operatorId;
  }
}

/** A user function (or the task running it) failed. Names the operator and the task index. */
export class TaskFailedError extends MobiusError {
  readonly operatorId: string;
  readonly operatorName: string;
  readonly taskIndex: number;

  constructor(operatorId: string, operatorName: string, taskIndex: number, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super('TASK_FAILED', `operator "${operatorName}" (${operatorId}) task #${taskIndex} failed: ${reason}`, { cause });
    this.operatorId = operatorId;
    this.operatorName = operatorName;
    this.taskIndex = taskIndex;
  }
}

/**
 * The job as a whole failed; `cause` holds the first task failure, whose operator and task
 * index are copied here.
 */
export class JobFailedError extends MobiusError {
  readonly jobId: string;
  readonly jobName: string;
  readonly operatorId: string | undefined;
  readonly operatorName: string | undefined;
  readonly taskIndex: number | undefined;

  constructor(jobId: string, jobName: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('JOB_FAILED', `job "${jobName}" failed: ${reason}`, { cause });
    this.jobId = jobId;
    this.jobName = jobName;
    const task = cause instanceof TaskFailedError ? cause : undefined;
    this.operatorId = task?.operatorId;
    this.operatorName = task?.operatorName;
    this.taskIndex = task?.taskIndex;
  }
}

/** No runner is registered: `@mobius/api` alone builds graphs but does not run them. */
export class RunnerError extends MobiusError {
  constructor(message: string) {
    super('NO_RUNNER', message);
  }
}

/** The cluster has fewer free slots than a job needs. */
export class InsufficientSlotsError extends MobiusError {
  readonly required: number;
  readonly available: number;
  /** Slots the cluster has in all, free or not; undefined when the caller did not say. */
  readonly total: number | undefined;

  constructor(required: number, available: number, total?: number) {
    super(
      'INSUFFICIENT_SLOTS',
      `job needs ${required} slots but the cluster has ${available} free` + (total === undefined ? '' : ` of ${total}`),
    );
    this.required = required;
    this.available = available;
    this.total = total;
  }
}

/** Transport failures: a lost peer, a closed channel, a malformed frame. */
export class TransportError extends MobiusError {
  constructor(code: 'TRANSPORT_CLOSED' | 'TRANSPORT_PEER_LOST' | 'FRAME_MALFORMED' | 'TRANSPORT_FAILED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** State backend failures. */
export class StateError extends MobiusError {
  constructor(code: 'STATE_FAILED' | 'STATE_CLOSED' | 'STATE_SERIALIZATION', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Checkpoint failures: timeout, abort, corrupt data. */
export class CheckpointError extends MobiusError {
  constructor(code: 'CHECKPOINT_ABORTED' | 'CHECKPOINT_TIMEOUT' | 'CHECKPOINT_CORRUPT' | 'CHECKPOINT_FAILED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A source collected more records than its channels may hold without waiting on backpressure. */
export class BackpressureError extends MobiusError {
  constructor(message: string) {
    super('BACKPRESSURE_IGNORED', message);
  }
}
