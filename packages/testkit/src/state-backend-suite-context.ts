import type { KeyGroupRange, StateKey, TaskStateBackend } from '@mobius/interface';

/** What the case files of describeStateBackend share: the suite's task factory, keys and knobs. */
export interface StateBackendSuiteContext {
  /** A fresh task state; `job` names a job so the tasks of one test share it. */
  readonly task: (index: number, keyGroups: KeyGroupRange, job?: string) => Promise<TaskStateBackend>;
  readonly newJob: () => string;
  readonly kg: (key: StateKey) => number;
  readonly KEYS: StateKey[];
  /** What `state` holds of `keys` in each named state (undefined values left out). */
  readonly contents: (state: TaskStateBackend, names: readonly string[], keys: readonly StateKey[]) => Map<string, unknown>;
  readonly timeout: number;
  readonly manyKeys: number;
  readonly ALL: KeyGroupRange;
  readonly MAX_P: number;
}
