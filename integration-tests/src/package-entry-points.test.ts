import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

interface Conditional {
  readonly types?: string;
  readonly default?: string;
}
interface PackageJson {
  readonly name: string;
  readonly private?: boolean;
  readonly exports?: Record<string, { readonly import?: Conditional; readonly require?: Conditional } | string>;
}

/**
 * Every published package of the monorepo (packages/* and apps/*), as built by tsup. Each one
 * promises an ESM and a CJS build with types, through its `exports` map.
 */
const packages = ['packages', 'apps'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir)).map((name) => {
    const folder = join(repoRoot, dir, name);
    return { folder, json: JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as PackageJson };
  }),
);

// Vitest is ESM-only and cannot be require()d, so neither can a suite built on it.
const ESM_ONLY = new Set(['@mobius/testkit']);

describe('package entry points (the built dist of every package)', () => {
  it('finds the packages', () => {
    expect(packages.map((p) => p.json.name)).toEqual(expect.arrayContaining(['@mobius/interface', '@mobius/runtime', '@mobius/job-loader', 'mobius', 'mobius-cluster']));
  });

  // Every entry point: the root and each documented subpath (e.g. mobius/plugin).
  const entries = packages.flatMap(({ folder, json }) =>
    Object.entries(json.exports ?? {})
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, entry]) => ({ folder, json, subpath, entry })),
  );

  it('every package has a root entry point', () => {
    for (const { json } of packages) expect(typeof json.exports?.['.'], `${json.name} has an exports map with "."`).toBe('object');
  });

  for (const { folder, json, subpath, entry: target } of entries) {
    const name = subpath === '.' ? json.name : `${json.name}/${subpath.slice(2)}`;
    it(`${name}: import and require give the same named exports, and both have types`, async () => {
      expect(typeof target, `${name} is a conditional export`).toBe('object');
      const entry = target as { import?: Conditional; require?: Conditional };
      expect(entry.import?.default).toBeDefined();
      expect(existsSync(join(folder, entry.import!.types ?? 'missing')), `${name}: import types`).toBe(true);
      const esm = (await import(pathToFileURL(join(folder, entry.import!.default!)).href)) as Record<string, unknown>;
      const names = Object.keys(esm).filter((k) => k !== 'default').sort();
      expect(names.length).toBeGreaterThan(0);
      if (ESM_ONLY.has(json.name)) return;

      expect(entry.require?.default, `${name} has a require condition`).toBeDefined();
      expect(existsSync(join(folder, entry.require!.types ?? 'missing')), `${name}: require types`).toBe(true);
      const require = createRequire(join(folder, 'package.json'));
      const cjs = require(join(folder, entry.require!.default!)) as Record<string, unknown>;
      expect(Object.keys(cjs).filter((k) => k !== 'default').sort()).toEqual(names);
    });
  }
});

describe('mobius: the user API at the root, what plugin authors need under mobius/plugin', () => {
  it('the root exports the user API and none of the internal wiring', async () => {
    const root = (await import('mobius')) as Record<string, unknown>;
    for (const name of ['StreamingContext', 'FileSink', 'valueState', 'ConfigError', 'JobFailedError', 'CONFIG_KEYS', 'EmbeddedRunner']) expect(root[name], name).toBeDefined();
    for (const name of ['stateBackendFor', 'compactorFor', 'disposeJobState', 'retainedCheckpoints', 'captureJob', 'importJob']) expect(root[name], name).toBeUndefined();
  });

  it('mobius/plugin exports the contracts helpers and the state backend factories mobius ships', async () => {
    const plugin = (await import('mobius/plugin')) as Record<string, unknown>;
    for (const name of ['StateBackendRegistry', 'registerConfigOptions', 'configOption', 'getConfig', 'keyGroupOf', 'makeFrame', 'TransportError', 'memoryStateBackendFactory', 'levelStateBackendFactory']) {
      expect(plugin[name], name).toBeDefined();
    }
    expect((plugin.levelStateBackendFactory as { kind: string }).kind).toBe('level');
    expect((plugin.memoryStateBackendFactory as { kind: string }).kind).toBe('memory');
  });
});
