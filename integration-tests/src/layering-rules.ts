import type { IForbiddenRuleType } from 'dependency-cruiser';

/**
 * The rules of the root README's package map, for dependency-cruiser. Paths are those of the
 * resolved files (a workspace import such as `@mobius/interface` resolves through its symlink to
 * `packages/interface/dist/...`), relative to the folder cruised from.
 *
 * Layers, top to bottom: apps → engine → plugins and their kit → interface. An import may point
 * down or stay in its layer (engine packages use each other), never up; a plugin imports only
 * the contracts and the kit; nothing imports an app; `api` (with what it loads: the planner and
 * the interface) runs in a browser, so it imports neither Node built-ins nor npm packages.
 *
 * Tests (`*.test.ts`, `test-*.ts` helpers and `test-fixtures/`) follow the same layer rules and
 * may also import `@mobius/testkit` (the compliance suites), Node built-ins and test tools;
 * nothing else may import the testkit. Cross-package tests that need an app live in
 * `integration-tests`, which is not cruised.
 */
export const LAYERS = {
  apps: ['embedded', 'cluster'],
  engine: ['api', 'planner', 'windowing', 'jobmaster', 'runtime', 'scheduler', 'failover', 'job-loader', 'ml', 'nexmark'],
  plugins: ['transport-memory', 'transport-zeromq', 'transport-threads', 'state-level'],
  kits: ['plugin-kit', 'testkit'],
  contracts: ['interface'],
} as const;

const any = (names: readonly string[]): string => `(?:${names.join('|')})`;
const pkg = (names: readonly string[]): string => `^packages/${any(names)}/`;

const TESTS = '(?:\\.test\\.[cm]?[jt]s$|/test-[a-z-]+\\.[cm]?[jt]s$|/test-fixtures/)';
const APPS = '^apps/';
const ENGINE = pkg(LAYERS.engine);
/** Plugins: the packages, and the example plugin kept with the examples. Group 1 is the plugin's folder. */
const PLUGINS = `^((?:packages/${any(LAYERS.plugins)}|examples/net-transport)/)`;
const WORKSPACE = '^(?:packages|apps|examples)/';
const BROWSER_SAFE = pkg(['api', 'planner', 'windowing', 'interface']);
const KNOWN = `(?:${APPS}${any(LAYERS.apps)}/|${pkg([...LAYERS.engine, ...LAYERS.plugins, ...LAYERS.kits, ...LAYERS.contracts])}|^examples/)`;

export const LAYERING_RULES: IForbiddenRuleType[] = [
  {
    name: 'no-unresolved-import',
    comment: 'every import resolves (workspace packages are built before this test), so none escapes the rules below',
    severity: 'error',
    from: {},
    to: { couldNotResolve: true },
  },
  {
    name: 'unlisted-package',
    comment: 'every workspace package sits in a layer of the map: add a new one to LAYERS (and to the README)',
    severity: 'error',
    from: {},
    to: { path: WORKSPACE, pathNot: KNOWN },
  },
  {
    name: 'nothing-imports-an-app',
    comment: 'apps (mobius, mobius-cluster) are composition roots: nothing imports them, not even the other app',
    severity: 'error',
    from: { path: '^(apps/[^/]+/)' },
    to: { path: APPS, pathNot: '^$1' },
  },
  {
    name: 'nothing-imports-an-app-from-packages',
    comment: 'the engine, plugins and contracts never import an app',
    severity: 'error',
    from: { pathNot: APPS },
    to: { path: APPS },
  },
  {
    name: 'engine-imports-no-plugin',
    comment: 'the engine receives plugins through factories that declare their config keys; it never imports one',
    severity: 'error',
    from: { path: ENGINE },
    to: { path: PLUGINS },
  },
  {
    name: 'plugin-imports-contracts-and-kit-only',
    comment: 'a plugin imports only @mobius/interface and @mobius/plugin-kit (and npm packages of its own; its tests also the testkit)',
    severity: 'error',
    from: { path: PLUGINS },
    to: { path: WORKSPACE, pathNot: `(?:^$1|${pkg(['interface', 'plugin-kit', 'testkit'])})` },
  },
  {
    name: 'kit-imports-contracts-only',
    comment: 'the kits (plugin-kit, testkit) build on the contracts alone',
    severity: 'error',
    from: { path: `^(packages/${any(LAYERS.kits)}/)` },
    to: { path: WORKSPACE, pathNot: `(?:^$1|${pkg(['interface'])})` },
  },
  {
    name: 'interface-is-a-leaf',
    comment: '@mobius/interface holds contracts only: no workspace package, no npm package, no Node built-in',
    severity: 'error',
    from: { path: pkg(['interface']), pathNot: TESTS },
    to: { pathNot: pkg(['interface']) },
  },
  {
    name: 'api-runs-in-a-browser',
    comment: '@mobius/api (and the planner and interface it loads) import no Node built-in, no native module, no npm package',
    severity: 'error',
    from: { path: BROWSER_SAFE, pathNot: TESTS },
    to: { pathNot: BROWSER_SAFE },
  },
  {
    name: 'testkit-only-in-tests',
    comment: 'the compliance suites import vitest: only tests (and the testkit itself) may import them',
    severity: 'error',
    from: { pathNot: `(?:${TESTS}|${pkg(['testkit'])})` },
    to: { path: pkg(['testkit']) },
  },
];
