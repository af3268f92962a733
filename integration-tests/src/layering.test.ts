import { existsSync, readdirSync } from 'node:fs';
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

describe('imports follow the README map (dependency-cruiser over the sources)', () => {
  it('finds no violation in the repository, having seen its workspace imports', async () => {
    const result = await cruiseSources(repoRoot);
    expect(result.summary.violations.map(show)).toEqual([]);
    // The cruise did resolve workspace imports (else the rules would have nothing to check).
    const edges = new Set(result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source.split('/').slice(0, 2).join('/')} -> ${d.resolved.split('/').slice(0, 2).join('/')}`)));
    expect(edges).toContain('apps/cluster -> packages/job-loader');
    expect(edges).toContain('packages/runtime -> packages/interface');
    expect(edges).toContain('packages/state-level -> packages/interface');
    expect(edges).not.toContain('apps/cluster -> apps/embedded');
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
