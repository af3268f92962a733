import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

// What the threads do is shown by integration-tests' cluster-threads test.
describe('mobius-cluster --task-threads', { timeout: 30_000 }, () => {
  it.each([
    ['worker', '-1', 'must be an integer of at least 0'],
    ['worker', 'many', 'must be an integer of at least 0'],
    ['worker', '257', 'must be at most 256'],
    ['local', '1000', 'must be at most 256'],
  ])('%s --task-threads %s is a usage error naming the flag', (command, value, message) => {
    expect(existsSync(cli), `${cli} is missing: build first`).toBe(true);
    const args = command === 'worker' ? ['worker', '--coordinator', 'tcp://127.0.0.1:1'] : ['local', '--port', '0', '--http-port', '0'];
    const r = spawnSync(process.execPath, [cli, ...args, '--task-threads', value], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--task-threads ${message}`);
  });

  it('is listed in the usage of worker and local, with its default', () => {
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 20_000 });
    const usage = r.stdout + r.stderr;
    expect(usage).toMatch(/mobius-cluster worker [^]*--task-threads N[^]*one per slot[^]*mobius-cluster keygen/);
    expect(usage).toMatch(/mobius-cluster local [^]*--task-threads N[^]*mobius-cluster submit/);
  });
});
