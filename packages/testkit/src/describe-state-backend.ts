import type { KeyGroupRange, StateKey, TaskStateBackend, TaskStateScope } from '@mobius/interface';
import { afterAll, afterEach, describe } from 'vitest';
import { suiteKeyGroupOf } from './suite-key-groups.js';
import { type StateBackendSuiteContext } from './state-backend-suite-context.js';
import { describeKeyedStoreCases } from './state-backend-keyed-cases.js';
import { describeSnapshotCases } from './state-backend-snapshot-cases.js';
import { describeRescaleCases } from './state-backend-rescale-cases.js';

// The index exports these from this file, where they were before the suite was split up.
export { restoreChain } from './restore-chain.js';
export { suiteKeyGroupOf, suiteKeyGroupRange } from './suite-key-groups.js';

/** How the state backend suite makes task states, and cleans up after itself. */
export interface StateBackendSuiteFactory {
  /** The state of one task (a fresh, empty one: every scope the suite passes is new). */
  create(scope: TaskStateScope): TaskStateBackend | Promise<TaskStateBackend>;
  /** Runs once after the suite (e.g. removes a temporary folder). The suite closes every task it made before. */
  cleanup?(): Promise<void>;
}

/** Knobs of the state backend suite. */
export interface StateBackendSuiteOptions {
  /** Keys of the many-keys test. Default 5,000. */
  readonly manyKeys?: number;
  /** Timeout of each test, ms. Default 30,000. */
  readonly testTimeoutMs?: number;
}

let suiteCounter = 0;

/**
 * Defines a vitest `describe` block with the tests every Mobius state backend must pass:
 * get/put/delete/size, independent named states, keys of different types, snapshot and
 * restore into a fresh task, restore keeping only the owned key groups (rescaling 2 → 3 and
 * 3 → 1), value round trips, and restoring an older or later checkpoint (through the base
 * chain when snapshots are incremental).
 *
 * ```ts
 * describeStateBackend('memory', { create: (scope) => new MemoryStateBackend().create(scope) });
 * ```
 */
export function describeStateBackend(name: string, factory: StateBackendSuiteFactory, options: StateBackendSuiteOptions = {}): void {
  const manyKeys = options.manyKeys ?? 5_000;
  const timeout = options.testTimeoutMs ?? 30_000;
  const suite = ++suiteCounter;
  const MAX_P = 32;
  const ALL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
  const kg = (key: StateKey): number => suiteKeyGroupOf(key, MAX_P);

  describe(`state backend compliance: ${name}`, () => {
    const live: TaskStateBackend[] = [];
    let jobCounter = 0;

    /** A fresh task state; `job` names a job so the tasks of one test share it. */
    async function task(index: number, keyGroups: KeyGroupRange, job = `suite-${suite}-job-${++jobCounter}`): Promise<TaskStateBackend> {
      const scope: TaskStateScope = {
        jobId: job,
        operatorId: 'reduce-1',
        taskIndex: index,
        maxParallelism: MAX_P,
        keyGroups,
        keyGroupOf: kg,
      };
      const state = await factory.create(scope);
      live.push(state);
      return state;
    }
    const newJob = (): string => `suite-${suite}-job-${++jobCounter}`;

    afterEach(async () => {
      const all = live.splice(0);
      for (const s of all) await s.close();
    });
    afterAll(async () => {
      await factory.cleanup?.();
    });

    const KEYS: StateKey[] = [
      ...Array.from({ length: 60 }, (_, i) => `word-${i}`),
      ...Array.from({ length: 30 }, (_, i) => i * 7 - 50),
      0.5,
      true,
      false,
      '',
      'héllo 😀',
      '["user",1]',
    ];

    /** What `state` holds of `keys` in each named state (undefined values left out). */
    function contents(state: TaskStateBackend, names: readonly string[], keys: readonly StateKey[]): Map<string, unknown> {
      const out = new Map<string, unknown>();
      for (const n of names) {
        const store = state.keyed<unknown>(n);
        for (const k of keys) {
          const v = store.get(k);
          if (v !== undefined) out.set(`${n}/${typeof k}/${String(k)}`, v);
        }
      }
      return out;
    }

    const ctx: StateBackendSuiteContext = { task, newJob, kg, KEYS, contents, timeout, manyKeys, ALL, MAX_P };

    describeKeyedStoreCases(ctx);

    describe('snapshot and restore', () => {
      describeSnapshotCases(ctx);

      describeRescaleCases(ctx);
    });
  });
}
