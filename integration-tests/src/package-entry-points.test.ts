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
    expect(packages.map((p) => p.json.name)).toEqual(expect.arrayContaining(['@mobius/interface', '@mobius/runtime', 'mobius', 'mobius-cluster']));
  });

  for (const { folder, json } of packages) {
    it(`${json.name}: import and require give the same named exports, and both have types`, async () => {
      const root = json.exports?.['.'];
      expect(typeof root, `${json.name} has an exports map with "."`).toBe('object');
      const entry = root as { import?: Conditional; require?: Conditional };
      expect(entry.import?.default).toBeDefined();
      expect(existsSync(join(folder, entry.import!.types ?? 'missing')), `${json.name}: import types`).toBe(true);
      const esm = (await import(pathToFileURL(join(folder, entry.import!.default!)).href)) as Record<string, unknown>;
      const names = Object.keys(esm).filter((k) => k !== 'default').sort();
      expect(names.length).toBeGreaterThan(0);
      if (ESM_ONLY.has(json.name)) return;

      expect(entry.require?.default, `${json.name} has a require condition`).toBeDefined();
      expect(existsSync(join(folder, entry.require!.types ?? 'missing')), `${json.name}: require types`).toBe(true);
      const require = createRequire(join(folder, 'package.json'));
      const cjs = require(join(folder, entry.require!.default!)) as Record<string, unknown>;
      expect(Object.keys(cjs).filter((k) => k !== 'default').sort()).toEqual(names);
    });
  }
});
