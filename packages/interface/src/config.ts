import { ConfigError } from './errors.js';

/** A configuration value: keys are dotted strings, values are scalars. */
export type ConfigValue = string | number | boolean;
export type ConfigMap = Readonly<Record<string, ConfigValue>>;

/** Where a key may be set: on the job (`option`), on one operator (`withConfig`), or both. */
export type ConfigScope = 'job' | 'operator' | 'both';

export interface ConfigKeyDeclaration {
  readonly key: string;
  readonly type: 'integer' | 'number' | 'string' | 'boolean';
  readonly default: ConfigValue;
  readonly scope: ConfigScope;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /**
   * The allowed values are the kinds of the plugins an app registered for this key
   * (`registerConfigKind`), not a fixed list: `state.backend` names a state backend factory.
   */
  readonly pluginKinds?: boolean;
  readonly doc: string;
}

/**
 * A typed configuration option, declared once (as Flink's `ConfigOption<T>`): its key, type,
 * default and doc. Read it with `getConfig(config, option)`, never with a cast.
 */
export interface ConfigOption<T extends ConfigValue = ConfigValue> extends ConfigKeyDeclaration {
  readonly default: T;
}

/** Declares a typed option (the declaration is validated by the config tests). */
export function configOption<T extends ConfigValue>(declaration: ConfigKeyDeclaration & { readonly default: T }): ConfigOption<T> {
  return declaration;
}

/** The options of the engine itself. Plugins declare their own (see registerConfigOptions). */
export const CoreOptions = {
  PARALLELISM_DEFAULT: configOption<number>({
    key: 'parallelism.default',
    type: 'integer',
    default: 1,
    min: 1,
    scope: 'job',
    doc: 'Parallelism of a source that sets none. Other operators inherit the parallelism of their (first) input unless they set their own.',
  }),
  MAX_PARALLELISM: configOption<number>({
    key: 'job.max-parallelism',
    type: 'integer',
    default: 128,
    min: 1,
    max: 32768,
    scope: 'job',
    doc: 'Number of key groups. A keyed operator can never run with more tasks than this; rescaling moves whole key groups.',
  }),
  BATCH_SIZE: configOption<number>({
    key: 'runtime.batch.size',
    type: 'integer',
    default: 1024,
    min: 1,
    max: 1_000_000,
    scope: 'both',
    doc: 'Records per frame: an output channel sends its batch when it holds this many records, when the task runs out of input, or after `runtime.linger.ms`.',
  }),
  TASK_STALL_TIMEOUT_MS: configOption<number>({
    key: 'task.stall.timeout.ms',
    type: 'integer',
    default: 0,
    min: 0,
    scope: 'job',
    doc: 'A task that holds its thread with input in hand and processes no record for this long is failed and recovered as any failed task (its worker is not declared lost); 0 turns this off (a stall is then only reported).',
  }),
  CHANNEL_CREDITS: configOption<number>({
    key: 'runtime.channel.credits',
    type: 'integer',
    default: 8,
    min: 1,
    max: 4096,
    scope: 'both',
    doc: 'Frames a channel may hold in flight (credit-based backpressure). A channel holds at most credits × batch size records; a sender without credit waits.',
  }),
  SERIALIZE_LOCAL_CHANNELS: configOption<boolean>({
    key: 'runtime.serialize-local-channels',
    type: 'boolean',
    default: false,
    scope: 'job',
    doc: 'Encode and decode every frame of an in-process channel (embedded mode, two tasks of one worker) with the network codec, so records arrive as copies with the types a remote worker would see and an unregistered class fails at once, as it would on a cluster.',
  }),
  LINGER_MS: configOption<number>({
    key: 'runtime.linger.ms',
    type: 'number',
    default: 5,
    min: 0,
    max: 60_000,
    scope: 'both',
    doc: 'Longest time a partly filled batch waits while its task is busy elsewhere (for example a source awaiting I/O).',
  }),
  ASYNC_CAPACITY: configOption<number>({
    key: 'runtime.async.capacity',
    type: 'integer',
    default: 100,
    min: 1,
    max: 1_000_000,
    scope: 'both',
    doc: 'Calls of an async function (a `map`, `flatMap`, `filter` or `sink` function that returns a promise, or `asyncMap`) in flight per task, completed results waiting for their turn included; at the bound the task takes no more input until the oldest call completes.',
  }),
  ASYNC_ORDERED: configOption<boolean>({
    key: 'runtime.async.ordered',
    type: 'boolean',
    default: true,
    scope: 'both',
    doc: 'Async results leave in input order (true, as Flink\'s orderedWait); false: as they complete, never across a watermark or a barrier (`asyncMap(fn, { ordered: false })`). Ordered under single-task failover, whose replay needs the same output order.',
  }),
  ASYNC_TIMEOUT_MS: configOption<number>({
    key: 'runtime.async.timeout.ms',
    type: 'integer',
    default: 0,
    min: 0,
    scope: 'both',
    doc: 'An async call not completed within this time fails its task (error code `ASYNC_TIMEOUT`), recovered as any task failure; 0: no limit (`asyncMap(fn, { timeoutMs })`).',
  }),
  CHECKPOINT_INTERVAL_MS: configOption<number>({
    key: 'checkpoint.interval.ms',
    type: 'integer',
    default: 0,
    min: 0,
    scope: 'job',
    doc: 'Time between checkpoints; 0 turns checkpointing off (and with it exactly-once sinks and restarts from a checkpoint).',
  }),
  CHECKPOINT_TIMEOUT_MS: configOption<number>({
    key: 'checkpoint.timeout.ms',
    type: 'integer',
    default: 60_000,
    min: 1,
    scope: 'job',
    doc: 'A checkpoint not acknowledged by every task within this time is aborted (its id is never reused).',
  }),
  CHECKPOINT_RETAINED: configOption<number>({
    key: 'checkpoint.retained',
    type: 'integer',
    default: 2,
    min: 1,
    scope: 'job',
    doc: 'Completed checkpoints kept; older ones are deleted (savepoints are never deleted).',
  }),
  CHECKPOINT_DIR: configOption<string>({
    key: 'checkpoint.dir',
    type: 'string',
    default: '',
    scope: 'job',
    doc: 'Folder of the filesystem checkpoint store (a shared mount on a cluster). Empty: a folder under the system temp dir (embedded) or the coordinator data dir.',
  }),
  STATE_BACKEND: configOption<string>({
    key: 'state.backend',
    type: 'string',
    default: 'memory',
    pluginKinds: true,
    scope: 'job',
    doc: 'Where keyed state lives: the kind of a state backend factory registered by the app (`mobius` and `mobius-cluster` ship `memory`, the heap, and `level`, LevelDB files with a bounded cache). An unregistered kind is a ConfigError listing the known ones.',
  }),
  RESTART_MAX_ATTEMPTS: configOption<number>({
    key: 'restart.max-attempts',
    type: 'integer',
    default: 3,
    min: 0,
    scope: 'job',
    doc: '`fixed-delay`: recoveries of one task (or global restores of the job) before the job fails (only with checkpointing on).',
  }),
  RESTART_DELAY_MS: configOption<number>({
    key: 'restart.delay.ms',
    type: 'integer',
    default: 500,
    min: 0,
    scope: 'job',
    doc: 'Delay before each recovery with the `fixed-delay` and `failure-rate` strategies.',
  }),
  RESTART_STRATEGY: configOption<'fixed-delay' | 'exponential-delay' | 'failure-rate'>({
    key: 'restart.strategy',
    type: 'string',
    default: 'exponential-delay',
    values: ['fixed-delay', 'exponential-delay', 'failure-rate'],
    scope: 'job',
    doc: 'How often and how soon a checkpointed job recovers (as Flink\'s restart strategies). A single-task recovery counts as one failure of each failed task, a global restore as one failure of the job. `exponential-delay`: a growing delay, reset after a quiet period, no lifetime cap. `fixed-delay`: `restart.delay.ms` each time, at most `restart.max-attempts` failures. `failure-rate`: `restart.delay.ms` each time; fails when more than `restart.failure-rate.max-failures-per-interval` failures come within `restart.failure-rate.interval.ms`.',
  }),
  RESTART_EXPONENTIAL_INITIAL_BACKOFF_MS: configOption<number>({
    key: 'restart.exponential.initial-backoff.ms',
    type: 'integer',
    default: 100,
    min: 0,
    scope: 'job',
    doc: '`exponential-delay`: delay before the first recovery (and the first after a reset).',
  }),
  RESTART_EXPONENTIAL_MAX_BACKOFF_MS: configOption<number>({
    key: 'restart.exponential.max-backoff.ms',
    type: 'integer',
    default: 60_000,
    min: 0,
    scope: 'job',
    doc: '`exponential-delay`: the delay never grows past this (before jitter).',
  }),
  RESTART_EXPONENTIAL_BACKOFF_MULTIPLIER: configOption<number>({
    key: 'restart.exponential.backoff-multiplier',
    type: 'number',
    default: 1.5,
    min: 1,
    scope: 'job',
    doc: '`exponential-delay`: each failure multiplies the delay by this.',
  }),
  RESTART_EXPONENTIAL_RESET_BACKOFF_THRESHOLD_MS: configOption<number>({
    key: 'restart.exponential.reset-backoff-threshold.ms',
    type: 'integer',
    default: 3_600_000,
    min: 0,
    scope: 'job',
    doc: '`exponential-delay`: a task (or the job) that ran this long since its last recovery without failing starts again from the initial backoff.',
  }),
  RESTART_EXPONENTIAL_JITTER_FACTOR: configOption<number>({
    key: 'restart.exponential.jitter-factor',
    type: 'number',
    default: 0.1,
    min: 0,
    max: 1,
    scope: 'job',
    doc: '`exponential-delay`: each delay moves by a random amount up to this fraction of it, either way, so recoveries of many tasks do not fall in step.',
  }),
  RESTART_FAILURE_RATE_MAX_FAILURES_PER_INTERVAL: configOption<number>({
    key: 'restart.failure-rate.max-failures-per-interval',
    type: 'integer',
    default: 1,
    min: 1,
    scope: 'job',
    doc: '`failure-rate`: failures of one task (or global restores of the job) allowed within `restart.failure-rate.interval.ms`; one more fails the job.',
  }),
  RESTART_FAILURE_RATE_INTERVAL_MS: configOption<number>({
    key: 'restart.failure-rate.interval.ms',
    type: 'integer',
    default: 60_000,
    min: 1,
    scope: 'job',
    doc: '`failure-rate`: the sliding window in which failures are counted.',
  }),
  FAILOVER_STRATEGY: configOption<'single-task' | 'global'>({
    key: 'failover.strategy',
    type: 'string',
    default: 'single-task',
    values: ['single-task', 'global'],
    scope: 'job',
    doc: 'How a failure is recovered, in both modes: `single-task` rolls back only the failed tasks (upstream tasks replay, downstream tasks de-duplicate, determinants make the rerun identical) and widens only when it must; `global` restores every task from the latest complete checkpoint.',
  }),
  FAILOVER_REPLAY_MAX_BYTES: configOption<number>({
    key: 'failover.replay.max-bytes',
    type: 'integer',
    default: 64 * 1024 * 1024,
    min: 0,
    scope: 'job',
    doc: 'Bytes (estimated from the records) each output channel keeps of what it sent since the last completed checkpoint, for replay to a restarted downstream task. A channel that had to drop frames is not replayable until the next checkpoint completes; a failure then widens the rollback to its upstream task.',
  }),
} as const;

/**
 * Every configuration key Mobius knows, declared once: the engine's options and those that
 * plugins registered. The README tables are tested against this list, and the planner rejects
 * any key not in it.
 */
export const CONFIG_KEYS: readonly ConfigKeyDeclaration[] = Object.values(CoreOptions);

const byKey = new Map<string, ConfigKeyDeclaration>(CONFIG_KEYS.map((d) => [d.key, d]));

/**
 * Adds a plugin's options to the known keys (a state backend's, a transport's), so that jobs may
 * set them and the planner validates them. Registering the same declaration twice is a no-op; a
 * different declaration under a known key is a ConfigError.
 */
export function registerConfigOptions(options: readonly ConfigKeyDeclaration[]): void {
  for (const o of options) {
    const known = byKey.get(o.key);
    if (known !== undefined && known !== o && JSON.stringify(known) !== JSON.stringify(o)) {
      throw new ConfigError('CONFIG_DUPLICATE_KEY', o.key, `config key '${o.key}' is already declared with another type, default or doc`);
    }
    byKey.set(o.key, o);
  }
}

const kindsByKey = new Map<string, Set<string>>();

/**
 * Allows `kind` as a value of a key whose values are plugin kinds (declared with
 * `pluginKinds`), as an app does when it loads a plugin's factory. Registering twice is a no-op.
 */
export function registerConfigKind(key: string, kind: string): void {
  const decl = byKey.get(key);
  if (decl?.pluginKinds !== true) throw new ConfigError('CONFIG_UNKNOWN_KEY', key, `config key '${key}' does not take plugin kinds`);
  let kinds = kindsByKey.get(key);
  if (kinds === undefined) kindsByKey.set(key, (kinds = new Set()));
  kinds.add(kind);
}

/** The plugin kinds registered for a key, in registration order. */
export function registeredConfigKinds(key: string): readonly string[] {
  return [...(kindsByKey.get(key) ?? [])];
}

/** Every key known now: the engine's and the registered plugins'. */
export function knownConfigKeys(): readonly ConfigKeyDeclaration[] {
  return [...byKey.values()];
}

/** The value of an option in a resolved config map (a plan's), or its default when unset. */
export function getConfig<T extends ConfigValue>(config: ConfigMap, option: ConfigOption<T>): T {
  const value = config[option.key];
  return (value === undefined ? option.default : value) as T;
}

/** The value of an option for one operator: its own setting, else the job's, else the default. */
export function getOperatorConfig<T extends ConfigValue>(operatorConfig: ConfigMap, jobConfig: ConfigMap, option: ConfigOption<T>): T {
  const value = operatorConfig[option.key] ?? jobConfig[option.key];
  return (value === undefined ? option.default : value) as T;
}

/** The declaration of a key, or undefined. */
export function configKey(key: string): ConfigKeyDeclaration | undefined {
  return byKey.get(key);
}

/** Default values of every key. */
export function defaultConfig(): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const d of byKey.values()) out[d.key] = d.default;
  return out;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggestion(key: string): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const d of byKey.values()) {
    const dist = distance(key, d.key);
    if (dist < bestD) {
      bestD = dist;
      best = d.key;
    }
  }
  return best !== undefined && bestD <= Math.max(3, key.length / 3) ? ` (did you mean '${best}'?)` : '';
}

/** A value as the user wrote it, for messages: never throws (bigint, symbol) and keeps NaN/Infinity visible. */
function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value.toString()}n`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  if (typeof value === 'symbol' || typeof value === 'function') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Validates one key and value for a scope. `where` names the place for the message, e.g.
 * `job option` or `operator "map-2"`. Throws ConfigError naming the key.
 */
export function validateConfigEntry(key: string, value: unknown, scope: 'job' | 'operator', where: string): void {
  const decl = byKey.get(key);
  if (decl === undefined) {
    throw new ConfigError('CONFIG_UNKNOWN_KEY', key, `unknown config key '${key}' in ${where}${suggestion(key)}; known keys: ${[...byKey.keys()].join(', ')}`);
  }
  if (decl.scope !== 'both' && decl.scope !== scope) {
    throw new ConfigError('CONFIG_WRONG_SCOPE', key, `config key '${key}' in ${where} can only be set on the ${decl.scope}`);
  }
  const bad = (why: string): never => {
    throw new ConfigError('CONFIG_INVALID_VALUE', key, `config key '${key}' in ${where}: ${why} (got ${showValue(value)})`);
  };
  switch (decl.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) bad(`expected ${decl.type === 'integer' ? 'an integer' : 'a number'}`);
      const n = value as number;
      if (decl.type === 'integer' && !Number.isInteger(n)) bad('expected an integer');
      if (decl.min !== undefined && n < decl.min) bad(`must be at least ${decl.min}`);
      if (decl.max !== undefined && n > decl.max) bad(`must be at most ${decl.max}`);
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad('expected a boolean');
      break;
    case 'string':
      if (typeof value !== 'string') bad('expected a string');
      if (decl.values !== undefined && !decl.values.includes(value as string)) bad(`expected one of ${decl.values.join(', ')}`);
      // The default is what an unset key means, so it is as valid set as unset.
      if (decl.pluginKinds === true && value !== decl.default && kindsByKey.get(key)?.has(value as string) !== true) {
        const kinds = registeredConfigKinds(key);
        bad(`no plugin of that kind is registered in this process; known kinds: ${kinds.length > 0 ? kinds.join(', ') : 'none'}`);
      }
      break;
  }
}

/** Validates every entry of a map; see validateConfigEntry. */
export function validateConfig(config: ConfigMap, scope: 'job' | 'operator', where: string): void {
  for (const [key, value] of Object.entries(config)) validateConfigEntry(key, value, scope, where);
}
