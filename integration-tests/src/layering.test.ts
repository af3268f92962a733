import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';
import { LAYERING_RULES } from './layering-rules.js';

/** The source folders of every package, app and example plugin under `root` (not their dist). */
function sourceFolders(root: string): string[] {
  return ['packages', 'apps', 'examples'].flatMap((group) => {
    const dir = join(root, group);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((name) => `${group}/${name}/src`)
      .filter((src) => existsSync(join(root, src)));
  });
}

/** Cruises the sources under `root` (paths relative to it) against the layering rules. */
async function cruiseSources(root: string): Promise<ICruiseResult> {
  const result = await cruise(sourceFolders(root), {
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: LAYERING_RULES },
    // Workspace imports resolve through their symlinks to packages/*/dist: a dependency, not more source.
    doNotFollow: { path: '(?:^|/)node_modules/|/dist/' },
    tsPreCompilationDeps: true,
    // As Node resolves an ESM import (tsx exports its API for `import` only).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  });
  return result.output as ICruiseResult;
}

async function violations(root: string): Promise<IViolation[]> {
  return (await cruiseSources(root)).summary.violations;
}

const show = (v: IViolation): string => `${v.rule.name}: ${v.from} -> ${v.to}`;

/** The folder (`packages/x`, `apps/y`, `examples/z`) a repository path belongs to. */
const folderOf = (path: string): string => path.split('/').slice(0, 2).join('/');

interface Manifest {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}
const manifest = (folder: string): Manifest => JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as Manifest;

// Shared by the tests below: one cruise of the repository (a few seconds on a loaded machine).
let repository: Promise<ICruiseResult> | undefined;
const cruiseRepository = (): Promise<ICruiseResult> => (repository ??= cruiseSources(repoRoot));
const isTest = (path: string): boolean => /\.test\.[cm]?[jt]s$|\/test-[a-z-]+\.[cm]?[jt]s$|\/test-fixtures\//.test(path);

describe('imports follow the README map (dependency-cruiser over the sources)', () => {
  it('finds no violation in the repository, having seen its workspace imports', async () => {
    const result = await cruiseRepository();
    expect(result.summary.violations.map(show)).toEqual([]);
    // The cruise did resolve workspace imports (else the rules would have nothing to check).
    const edges = new Set(result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source.split('/').slice(0, 2).join('/')} -> ${d.resolved.split('/').slice(0, 2).join('/')}`)));
    expect(edges).toContain('apps/cluster -> packages/job-loader');
    expect(edges).toContain('packages/runtime -> packages/interface');
    expect(edges).toContain('packages/state-level -> packages/interface');
    expect(edges).not.toContain('apps/cluster -> apps/embedded');
  });

  it("declares every workspace package it imports: code in dependencies (or peers), tests also in devDependencies", async () => {
    const result = await cruiseRepository();
    const undeclared = new Set<string>();
    for (const m of result.modules) {
      if (!/^(?:packages|apps|examples)\/[^/]+\/(?:src|test-fixtures)\//.test(m.source)) continue;
      const own = manifest(folderOf(m.source));
      const declared = { ...own.dependencies, ...own.peerDependencies, ...(isTest(m.source) ? own.devDependencies : {}) };
      for (const d of m.dependencies) {
        if (!/^(?:packages|apps)\/[^/]+\//.test(d.resolved) || folderOf(d.resolved) === folderOf(m.source)) continue;
        const name = manifest(folderOf(d.resolved)).name;
        if (!(name in declared)) undeclared.add(`${m.source} imports ${name}, which ${own.name} does not declare`);
      }
    }
    // For example, the runtime imports key-group hashing from the interface, not the planner,
    // and only its tests build plans (planner is a devDependency).
    expect([...undeclared]).toEqual([]);
    expect(manifest('packages/runtime').dependencies).not.toHaveProperty('@mobius/planner');
    expect(manifest('apps/cluster').dependencies).not.toHaveProperty('mobius');
  });

  it('flags each kind of violation in a fixture that breaks every rule once', async () => {
    const found = await violations(join(repoRoot, 'integration-tests/fixtures/layering'));
    const got = found.map((v) => `${v.rule.name}: ${v.from}`).sort();
    expect(got).toEqual(
      [
        'api-runs-in-a-browser: packages/api/src/index.js',
        'api-runs-in-a-browser: packages/interface/src/index.js',
        'api-runs-in-a-browser: packages/planner/src/index.js',
        'engine-imports-no-plugin: packages/runtime/src/uses-plugin.js',
        'interface-is-a-leaf: packages/interface/src/index.js',
        'no-unresolved-import: packages/runtime/src/missing.js',
        'nothing-imports-an-app: apps/cluster/src/index.js',
        'nothing-imports-an-app-from-packages: packages/planner/src/index.js',
        'plugin-imports-contracts-and-kit-only: packages/transport-memory/src/index.js',
        'testkit-only-in-tests: packages/scheduler/src/index.js',
        'unlisted-package: apps/embedded/src/index.js',
      ].sort(),
    );
    // A plugin's test may import the testkit.
    expect(found.filter((v) => v.from.endsWith('.test.js'))).toEqual([]);
  });
});
