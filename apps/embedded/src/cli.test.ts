import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = join(packageDir, 'dist/cli.js');
const fixture = (name: string): string => join(packageDir, 'test-fixtures', name);

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const TIMEOUT_MS = 20_000;

/** Runs `node dist/cli.js ...args` to its exit; kills it and fails if it outlives the deadline. */
function mobius(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: packageDir,
      env: { ...process.env, MOBIUS_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mobius ${args.join(' ')} did not exit within ${TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx turbo run build --filter=mobius)`);
});

describe('mobius (the command)', { timeout: TIMEOUT_MS + 5_000 }, () => {
  it('--version prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
    const r = await mobius(['--version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await mobius(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage:\n/);
    expect(r.stdout).toContain('mobius run <job.ts|job.js> [args...]');
    expect(r.stdout).toContain('mobius explain <job.ts|job.js> [--format text|mermaid|all]');
  });

  it('with no arguments prints the usage and exits 1', async () => {
    const r = await mobius([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Usage:\n/);
    expect(r.stdout).toContain('mobius run');
  });

  it('run with no file exits 1 and says the job file is missing', async () => {
    const r = await mobius(['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('mobius: mobius run: missing the job file\n');
  });

  it('explain with an unknown --format exits 1 and names the format', async () => {
    const r = await mobius(['explain', '--format', 'bogus', 'x.ts']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('mobius: mobius explain: --format must be text, mermaid or all, got bogus\n');
  });

  it('an unknown command exits 1 with the usage', async () => {
    const r = await mobius(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mobius: unknown command 'frobnicate'\nUsage:/);
  });

  it('run of a job that fails prints the failure on stderr and exits 1', async () => {
    const r = await mobius(['run', fixture('failing-job.ts')]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mobius: job "doomed-job" failed: operator "explode" \(.+\) task #0 failed: Error: fixture boom$/m);
    expect(r.stdout).not.toContain('unreachable');
  });

  it('run of a TypeScript job runs it in-process and passes the remaining arguments', async () => {
    const r = await mobius(['run', fixture('cli-ok-job.ts'), '--flag', 'value']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ args: ['--flag', 'value'], totals: { odd: 9, even: 6 }, state: 'FINISHED' });
  });

  describe('explain and run of the same module', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'mobius-cli-test-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('explain prints the plan without running the job', async () => {
      const marker = join(dir, 'explain.marker');
      const r = await mobius(['explain', '--format', 'text', fixture('capture-job.ts')], { MOBIUS_FIXTURE_MARKER: marker });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Job "capture-me"');
      expect(r.stdout).toContain('fromValues -> times-ten -> sink');
      expect(r.stdout).not.toContain('flowchart');
      expect(existsSync(marker)).toBe(false); // neither the sink nor the code after submit ran
    });

    it('run of that module does run the sink and the code after submit', async () => {
      const marker = join(dir, 'run.marker');
      const r = await mobius(['run', fixture('capture-job.ts')], { MOBIUS_FIXTURE_MARKER: marker });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(marker, 'utf8')).toBe('sink 10\nsink 20\nsink 30\nafter-submit\n');
    });

    it('explain of a module that submits nothing exits 1 and says so', async () => {
      const r = await mobius(['explain', fixture('no-job.ts')]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^mobius: .*no-job\.ts did not submit a job/);
    });
  });
});
