import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from './helpers.js';

/**
 * Issue 17, item 6: every command the root README shows works as written right after its first
 * Quick start command, on a fresh clone. The commands are read from the README, so this test
 * breaks when the README changes them. It clones the committed HEAD (not uncommitted edits).
 */

/** The text of a `## heading` section, up to the next `## `. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`the README has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The command lines of each ```sh block, trailing `# comments` and blank lines dropped. */
function shBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    blocks.push(
      m[1]
        .split('\n')
        .map((line) => line.replace(/\s+#\s.*$/, '').trim())
        .filter((line) => line !== '' && !line.startsWith('#')),
    );
  }
  return blocks;
}

/** The environment of a user's shell: none of the test runner's npm or vitest variables. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|MOBIUS_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, TURBO_TELEMETRY_DISABLED: '1', ...extra };
}

/** TURBO_CACHE_DIR of this checkout's turbo cache (a git worktree shares its main one), if any. */
function turboCache(): NodeJS.ProcessEnv {
  const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  for (const dir of [join(repoRoot, '.turbo', 'cache'), join(dirname(common), '.turbo', 'cache')]) {
    if (existsSync(dir)) return { TURBO_CACHE_DIR: dir };
  }
  return {};
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one README line in bash in `cwd`; kills its process group past the deadline. */
function sh(line: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`"${line}" did not exit within ${timeoutMs} ms\nstdout: ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const quickStart = shBlocks(section(readme, 'Quick start'));
const afterInstall = shBlocks(section(readme, 'Commands after install'))[0] ?? [];
const clusterLines = shBlocks(section(readme, 'Running on a cluster'))[0] ?? [];

describe('the README commands on a fresh clone', () => {
  const tmp = tempDir('mobius-clone-');
  afterAll(() => tmp.remove());

  it('reads the commands from the README', () => {
    expect(quickStart[0]?.[0]).toBe('npm ci && npm run wordcount');
    expect(quickStart).toHaveLength(1);
    expect(quickStart[0]).toEqual(['npm ci && npm run wordcount', 'npm ci && npm test']);
    expect(afterInstall).toEqual(expect.arrayContaining([expect.stringMatching(/^npx mobius --help$/), expect.stringMatching(/^npx mobius run examples\//), expect.stringMatching(/^npx mobius-cluster --help$/)]));
    expect(clusterLines.some((l) => /^npx mobius-cluster local /.test(l))).toBe(true);
    expect(clusterLines.some((l) => /^npx mobius-cluster submit /.test(l))).toBe(true);
  });

  it('after the first Quick start command, npx mobius, npx mobius-cluster and the cluster section work as written', async () => {
    const clone = join(tmp.dir, 'mobius');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '--quiet', '--no-checkout', repoRoot, clone]);
    execFileSync('git', ['checkout', '--quiet', head], { cwd: clone });
    // The clone's build may replay what this checkout's build already made (turbo's cache is
    // keyed by the inputs' hashes, so a changed file still builds): the commands are what is
    // tested here, not the compiler, and a cold build costs minutes on a loaded 2-core machine.
    const env = userEnv(turboCache());

    // npm ci takes ~15 s here and a cold build 1–9 min, depending on how loaded the machine is.
    const first = await sh(quickStart[0][0], clone, env, 1_200_000);
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr.slice(-3000) }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/records\/s/);

    for (const line of afterInstall) {
      const result = await sh(line, clone, env, 180_000);
      expect({ line, code: result.code, stderr: result.code === 0 ? '' : result.stderr.slice(-3000) }).toEqual({ line, code: 0, stderr: '' });
      if (line.endsWith('--help')) expect(result.stdout).toMatch(/^Usage:/);
      if (line.startsWith('npx mobius run ')) expect(result.stdout).toMatch(/distinct words/);
    }

    // The cluster section: `export` lines set the shell's variables; `local` runs in the
    // background (on free ports rather than 6123/8081, which other processes on a shared machine
    // may hold; the other commands find it through MOBIUS_URL); every other line must exit 0.
    const clusterEnv = { ...env };
    let local: ReturnType<typeof spawn> | undefined;
    try {
      for (const line of clusterLines) {
        const exported = /^export (\w+)=(\S+)$/.exec(line);
        if (exported !== null) {
          clusterEnv[exported[1]] = exported[2];
          continue;
        }
        if (/^npx mobius-cluster local /.test(line)) {
          const child = spawn('bash', ['-c', `${line} --port 0 --http-port 0`], { cwd: clone, env: clusterEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
          local = child;
          clusterEnv.MOBIUS_URL = await new Promise<string>((resolve, reject) => {
            let out = '';
            let err = '';
            child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
            child.stdout!.on('data', (d: Buffer) => {
              out += d.toString();
              const m = /Mobius cluster ready: (\S+)/.exec(out);
              if (m !== null) resolve(m[1]);
            });
            child.on('exit', (code) => reject(new Error(`"${line}" exited (${code}) before it was ready\nstderr: ${err.slice(-3000)}`)));
          });
          continue;
        }
        const result = await sh(line, clone, clusterEnv, 300_000);
        expect({ line, code: result.code, stderr: result.code === 0 ? '' : result.stderr.slice(-3000) }).toEqual({ line, code: 0, stderr: '' });
      }
      expect(local).toBeDefined();
    } finally {
      if (local?.pid !== undefined && local.exitCode === null) {
        const exited = new Promise((resolve) => local!.once('exit', resolve));
        process.kill(-local.pid, 'SIGTERM');
        await exited;
      }
    }
  }, 1_800_000);

  it('a launcher run before the build says to run npm run build', async () => {
    for (const [app, bin] of [
      ['embedded', 'mobius.mjs'],
      ['cluster', 'mobius-cluster.mjs'],
    ]) {
      // The committed launcher alone, with no dist/ beside it.
      const dir = join(tmp.dir, `unbuilt-${app}`);
      mkdirSync(join(dir, 'bin'), { recursive: true });
      copyFileSync(join(repoRoot, 'apps', app, 'bin', bin), join(dir, 'bin', bin));
      const result = await sh(`node bin/${bin} --help`, dir, userEnv(), 60_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/dist\/cli\.js is missing.*run npm run build/);
    }
  });
});
