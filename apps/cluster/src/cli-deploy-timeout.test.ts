import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

// The flag's effect (a deployment failing after that long) is shown by integration-tests' deploy-all-or-nothing test.
describe('mobius-cluster --deploy-timeout-ms', { timeout: 30_000 }, () => {
  it.each([
    ['coordinator', '0'],
    ['coordinator', 'soon'],
    ['local', '-5'],
  ])('%s --deploy-timeout-ms %s is a usage error naming the flag', (command, value) => {
    expect(existsSync(cli), `${cli} is missing: build first`).toBe(true);
    const r = spawnSync(process.execPath, [cli, command, '--port', '0', '--http-port', '0', '--deploy-timeout-ms', value], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--deploy-timeout-ms must be an integer of at least 1');
  });

  it('is listed in the usage of coordinator and local', () => {
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 20_000 });
    const usage = r.stdout + r.stderr;
    expect(usage).toMatch(/mobius-cluster coordinator [^]*--deploy-timeout-ms 30000[^]*mobius-cluster worker/);
    expect(usage).toMatch(/mobius-cluster local [^]*--deploy-timeout-ms 30000[^]*mobius-cluster submit/);
  });
});
