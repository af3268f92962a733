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
  /** An integer key that also takes the string `'auto'` (the system picks the number). */
  readonly auto?: boolean;
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
