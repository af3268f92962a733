import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = join(packageDir, 'dist/cli.js');
const job = join(packageDir, 'test-fixtures', 'args-job.ts');

function mobius(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: packageDir, env: { ...process.env, MOBIUS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const line = (out: string, prefix: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1);

/** The tasks an explain text shows: `[vertex] ... parallelism N` gives vertex#0 .. vertex#N-1. */
function explainedTasks(text: string): string[] {
  const tasks: string[] = [];
  for (const m of text.matchAll(/^\[([^\]]+)\] .* parallelism (\d+)/gm)) for (let i = 0; i < Number(m[2]); i++) tasks.push(`${m[1]}#${i}`);
  return tasks.sort();
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx turbo run build --filter=mobius)`);
});

describe('mobius explain job.ts -- args', { timeout: 60_000 }, () => {
  it('shows the job the same process.argv as run, so the plan explained is the plan that runs', async () => {
    const explained = await mobius(['explain', job, '--format', 'text', '--', '3', 'blue']);
    const ran = await mobius(['run', job, '3', 'blue']);
    expect(explained.stderr).toBe('');
    expect(explained.code).toBe(0);
    expect(ran.code).toBe(0);
    expect(line(explained.stdout, 'argv')).toBe(JSON.stringify([job, '3', 'blue']));
    expect(line(explained.stdout, 'argv')).toBe(line(ran.stdout, 'argv'));
    expect(explained.stdout).toContain('Job "args-blue"');
    expect(explained.stdout).toContain('"plus-one-blue"');
    // What ran: the tasks of the plan explained, no more, no fewer (the map at parallelism 3).
    const ranTasks = JSON.parse(line(ran.stdout, 'tasks')!) as string[];
    expect(ranTasks).toEqual(explainedTasks(explained.stdout));
    expect(ranTasks.filter((t) => t.startsWith('map-'))).toHaveLength(3);
  });

  it('run takes the job arguments after -- as well, and explain without them shows the job its usage error', async () => {
    const ran = await mobius(['run', job, '--', '2', 'red']);
    expect(line(ran.stdout, 'argv')).toBe(JSON.stringify([job, '2', 'red']));
    const bare = await mobius(['explain', job]);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('usage: args-job');
  });
});
