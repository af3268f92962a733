import { ConfigError } from './errors.js';
import type { ConfigKeyDeclaration, ConfigMap, ConfigOption, ConfigValue } from './config-option.js';
import { CoreOptions } from './core-options.js';

export { configOption } from './config-option.js';
export type { ConfigKeyDeclaration, ConfigMap, ConfigOption, ConfigScope, ConfigValue } from './config-option.js';
export { CoreOptions } from './core-options.js';

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
      if (decl.auto === true && value === 'auto') break;
      if (typeof value !== 'number' || !Number.isFinite(value)) bad(`expected ${decl.type === 'integer' ? 'an integer' : 'a number'}${decl.auto === true ? " or 'auto'" : ''}`);
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
